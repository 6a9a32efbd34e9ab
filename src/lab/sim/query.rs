//! A request's query string as the Docker API sends it: percent-encoded pairs, and
//! `filters` as JSON (`{"label":["a=b"]}`, or the older `{"label":{"a=b":true}}`).

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(query: Option<&str>) -> Query {
        let pairs = (query.unwrap_or("").split('&'))
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Query(pairs)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// "1" and "true" are yes; absent is no.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("1" | "true" | "True"))
    }

    /// The `filters` parameter: per key, the wanted values.
    pub fn filters(&self) -> Result<BTreeMap<String, Vec<String>>, String> {
        let Some(text) = self.get("filters").filter(|t| !t.is_empty()) else {
            return Ok(BTreeMap::new());
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid filter: {e}"))?;
        let object = value.as_object().ok_or("invalid filter: not an object")?;
        let mut out = BTreeMap::new();
        for (key, wanted) in object {
            let values: Vec<String> = match wanted {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_owned)
                    .collect(),
                serde_json::Value::Object(o) => o.keys().cloned().collect(),
                _ => return Err(format!("invalid filter {key:?}")),
            };
            out.insert(key.clone(), values);
        }
        Ok(out)
    }
}

/// Percent-decoding, with '+' as a space; a broken escape stays as written.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|&h| (h as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_and_filters_read_in_both_forms() {
        let q = Query::parse(Some(
            "all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&x=%zz+y",
        ));
        assert!(q.flag("all"));
        assert!(!q.flag("force"));
        assert_eq!(q.get("x"), Some("%zz y"));
        assert_eq!(q.filters().unwrap()["label"], vec!["a=b".to_owned()]);
        let old = Query::parse(Some("filters={\"label\":{\"a\":true}}"));
        assert_eq!(old.filters().unwrap()["label"], vec!["a".to_owned()]);
        assert!(Query::parse(Some("filters=[1]")).filters().is_err());
        assert!(Query::parse(Some("filters=%7B")).filters().is_err());
    }

    proptest::proptest! {
        #[test]
        fn no_query_panics(text in "\\PC{0,80}") {
            let q = Query::parse(Some(&text));
            let _ = q.filters();
        }
    }
}
