//! Names operators give apps, hosts and pins.

/// 1 to 63 characters of [A-Za-z0-9-_.]: fits an etcd key, a container name and a label.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
