//! Demo images built from the host's static busybox: no registry is needed. One root
//! filesystem tar is built once and imported under three tags with different settings.

use super::LabError;
use super::engine::Engine;
use std::path::Path;

pub const BUSYBOX: &str = "/usr/bin/busybox";
pub const REPO: &str = "wheelhouse/demo";
/// Every tag `import` creates.
pub const TAGS: [&str; 3] = ["1", "2", "broken"];

/// Serves `/` and `/health` on $ADDRESS:$PORT; `DEMO_BROKEN=1` leaves `/health` out, so
/// it answers 404. sh stays PID 1 with a TERM trap so `docker stop` is immediate.
const ENTRYPOINT: &str = r#"#!/bin/sh
trap 'exit 0' TERM INT
mkdir -p /tmp/www
echo "wheelhouse demo version $DEMO_VERSION on $(hostname)" > /tmp/www/index.html
if [ "$DEMO_BROKEN" != 1 ]; then echo ok > /tmp/www/health; fi
httpd -f -p "${ADDRESS:-0.0.0.0}:${PORT:-8080}" -h /tmp/www &
wait
"#;

const APPLETS: [&str; 14] = [
    "sh", "httpd", "wget", "hostname", "mkdir", "echo", "cat", "ls", "ps", "sleep", "env", "kill",
    "top", "uptime",
];

/// A root filesystem: /bin/busybox with applet links, /tmp and /demo.sh.
pub fn rootfs_tar(busybox: &Path) -> Result<Vec<u8>, LabError> {
    let bin = std::fs::read(busybox)
        .map_err(|e| LabError::io(format!("read {}", busybox.display()), e))?;
    let mut tar = Tar::default();
    tar.dir("bin", 0o755);
    tar.file("bin/busybox", 0o755, &bin);
    for applet in APPLETS {
        tar.symlink(&format!("bin/{applet}"), "busybox");
    }
    tar.dir("tmp", 0o1777);
    tar.file("demo.sh", 0o755, ENTRYPOINT.as_bytes());
    Ok(tar.finish())
}

/// The Dockerfile-style settings of one tag.
pub fn changes(tag: &str) -> Vec<String> {
    let broken = tag == "broken";
    vec![
        r#"ENTRYPOINT ["/bin/sh", "/demo.sh"]"#.to_owned(),
        "ENV PATH=/bin".to_owned(),
        format!("ENV DEMO_VERSION={tag}"),
        format!("ENV DEMO_BROKEN={}", u8::from(broken)),
        "EXPOSE 8080".to_owned(),
        // Lets the engine itself report health (docker ps shows healthy/unhealthy).
        "HEALTHCHECK --interval=3s --timeout=2s --retries=2 CMD wget -q -O /dev/null http://${ADDRESS:-127.0.0.1}:${PORT:-8080}/health".to_owned(),
        format!("LABEL wheelhouse.demo.version={tag}"),
    ]
}

/// Imports the three demo tags from `tar` into one engine.
pub fn import(engine: &Engine, tar: &[u8]) -> Result<(), LabError> {
    for tag in TAGS {
        engine.import(tar, REPO, tag, &changes(tag))?;
    }
    Ok(())
}

/// Just enough of ustar for directories, regular files and symlinks.
#[derive(Default)]
struct Tar {
    out: Vec<u8>,
}

impl Tar {
    fn dir(&mut self, name: &str, mode: u32) {
        self.header(&format!("{name}/"), mode, 0, b'5', "");
    }

    fn file(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.header(name, mode, data.len(), b'0', "");
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.resize(self.out.len() + pad, 0);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.header(name, 0o777, 0, b'2', target);
    }

    fn header(&mut self, name: &str, mode: u32, size: usize, kind: u8, link: &str) {
        let mut h = [0u8; 512];
        put(&mut h[0..100], name.as_bytes());
        put(&mut h[100..108], format!("{mode:07o}").as_bytes());
        put(&mut h[108..116], b"0000000");
        put(&mut h[116..124], b"0000000");
        put(&mut h[124..136], format!("{size:011o}").as_bytes());
        put(
            &mut h[136..148],
            format!("{:011o}", 1_700_000_000u32).as_bytes(),
        );
        h[148..156].fill(b' ');
        h[156] = kind;
        put(&mut h[157..257], link.as_bytes());
        put(&mut h[257..263], b"ustar\0");
        put(&mut h[263..265], b"00");
        put(&mut h[265..269], b"root");
        put(&mut h[297..301], b"root");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        put(&mut h[148..156], format!("{sum:06o}\0 ").as_bytes());
        self.out.extend_from_slice(&h);
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.resize(self.out.len() + 1024, 0);
        self.out
    }
}

fn put(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_is_readable_by_tar() {
        let dir = std::env::temp_dir().join(format!("wh-tar-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fake_busybox = dir.join("busybox");
        std::fs::write(&fake_busybox, vec![7u8; 1000]).unwrap();
        let tar = rootfs_tar(&fake_busybox).unwrap();
        assert_eq!(tar.len() % 512, 0);
        let tar_path = dir.join("root.tar");
        std::fs::write(&tar_path, &tar).unwrap();
        let listing = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&tar_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&listing.stdout);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            listing.status.success(),
            "{}",
            String::from_utf8_lossy(&listing.stderr)
        );
        assert!(text.contains("bin/busybox"), "{text}");
        assert!(text.contains("bin/httpd -> busybox"), "{text}");
        assert!(text.contains("1000"), "{text}");
        assert!(text.contains("demo.sh"), "{text}");
    }

    #[test]
    fn broken_tag_differs_only_in_health() {
        assert!(changes("broken").contains(&"ENV DEMO_BROKEN=1".to_owned()));
        assert!(changes("1").contains(&"ENV DEMO_BROKEN=0".to_owned()));
        assert!(changes("2").contains(&"ENV DEMO_VERSION=2".to_owned()));
    }
}
