//! Container logs from a workload cluster: the last lines, a live follow, a download; bounded.
//
// A line is cut at `LOG_LINE_MAX` bytes and a page keeps at most `LOG_LINES_MAX` lines.

use std::collections::VecDeque;

use app::clusters::model::{LOG_LINE_MAX, LOG_LINES_MAX};
use futures_util::{AsyncReadExt, Stream};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

use super::{FleetError, within};

/// Splits a byte stream into lines, cutting each at `LOG_LINE_MAX` bytes (marked) and never
/// holding more than one line's worth of a line without an end.
#[derive(Default)]
pub struct LineCutter {
    current: Vec<u8>,
    cut: bool,
}

/// What is added to a line that was cut.
pub const CUT_MARK: &str = " … [line cut]";

impl LineCutter {
    /// The lines `bytes` completes.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut done = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                done.push(self.take());
            } else if self.current.len() < LOG_LINE_MAX {
                self.current.push(b);
            } else {
                self.cut = true;
            }
        }
        done
    }

    /// The unfinished last line, if any.
    pub fn finish(&mut self) -> Option<String> {
        (!self.current.is_empty() || self.cut).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let mut line = String::from_utf8_lossy(&self.current)
            .trim_end_matches('\r')
            .to_string();
        if self.cut {
            line.push_str(CUT_MARK);
        }
        self.current.clear();
        self.cut = false;
        line
    }
}

/// The parameters of a log request: `tail` lines of `container`, or the previous container's.
fn params(container: &str, previous: bool, tail: Option<usize>, follow: bool) -> LogParams {
    LogParams {
        container: Some(container.to_string()).filter(|c| !c.is_empty()),
        previous,
        follow,
        tail_lines: tail.map(|t| t as i64),
        ..LogParams::default()
    }
}

/// The last `lines` lines (at most `LOG_LINES_MAX`), and whether any were dropped or cut.
pub async fn tail(
    client: kube::Client,
    namespace: &str,
    pod: &str,
    container: &str,
    previous: bool,
    lines: usize,
) -> Result<(Vec<String>, bool), FleetError> {
    let lines = lines.clamp(1, LOG_LINES_MAX);
    let api: Api<Pod> = Api::namespaced(client, namespace);
    let doing = format!("read the log of {namespace}/{pod}");
    let reader = within(
        &doing,
        api.log_stream(pod, &params(container, previous, Some(lines), false)),
    )
    .await?;
    let read_all = async move {
        let mut reader = std::pin::pin!(reader);
        let mut cutter = LineCutter::default();
        let mut kept: VecDeque<String> = VecDeque::new();
        let mut truncated = false;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            for line in cutter.push(&buf[..n]) {
                truncated |= line.ends_with(CUT_MARK);
                kept.push_back(line);
                if kept.len() > lines {
                    kept.pop_front();
                    truncated = true;
                }
            }
        }
        if let Some(line) = cutter.finish() {
            kept.push_back(line);
            if kept.len() > lines {
                kept.pop_front();
            }
        }
        Ok::<_, std::io::Error>((Vec::from(kept), truncated))
    };
    within(&doing, async move {
        read_all.await.map_err(kube::Error::ReadEvents)
    })
    .await
}

/// The live log from now on (after the last `tail` lines), line by line, until the pod goes or
/// the caller stops reading.
pub async fn follow(
    client: kube::Client,
    namespace: &str,
    pod: &str,
    container: &str,
    tail: usize,
) -> Result<impl Stream<Item = String> + Send + 'static, FleetError> {
    let api: Api<Pod> = Api::namespaced(client, namespace);
    let doing = format!("follow the log of {namespace}/{pod}");
    let reader = within(
        &doing,
        api.log_stream(
            pod,
            &params(container, false, Some(tail.min(LOG_LINES_MAX)), true),
        ),
    )
    .await?;
    let state = (
        Box::pin(reader),
        LineCutter::default(),
        VecDeque::<String>::new(),
    );
    Ok(futures_util::stream::unfold(
        state,
        |(mut reader, mut cutter, mut ready)| async move {
            loop {
                if let Some(line) = ready.pop_front() {
                    return Some((line, (reader, cutter, ready)));
                }
                let mut buf = vec![0u8; 16 * 1024];
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        let last = cutter.finish()?;
                        return Some((last, (reader, cutter, ready)));
                    }
                    Ok(n) => ready.extend(cutter.push(&buf[..n])),
                }
            }
        },
    ))
}

/// The whole log (up to `limit` bytes) as a byte stream, for a download.
pub async fn download(
    client: kube::Client,
    namespace: &str,
    pod: &str,
    container: &str,
    previous: bool,
    limit: i64,
) -> Result<
    impl Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send + 'static,
    FleetError,
> {
    let api: Api<Pod> = Api::namespaced(client, namespace);
    let mut p = params(container, previous, None, false);
    p.limit_bytes = Some(limit);
    let reader = within(
        &format!("read the log of {namespace}/{pod}"),
        api.log_stream(pod, &p),
    )
    .await?;
    Ok(futures_util::stream::unfold(
        Box::pin(reader),
        |mut reader| async move {
            let mut buf = vec![0u8; 64 * 1024];
            match reader.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(axum::body::Bytes::from(buf)), reader))
                }
                Err(e) => Some((Err(e), reader)),
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_chunks_and_cut_when_huge() {
        let mut c = LineCutter::default();
        assert_eq!(c.push(b"one\ntw"), ["one"]);
        assert_eq!(c.push(b"o\r\nthree"), ["two"]);
        assert_eq!(c.finish().as_deref(), Some("three"));
        assert_eq!(c.finish(), None);
        let huge = vec![b'x'; LOG_LINE_MAX * 3];
        assert!(c.push(&huge).is_empty());
        let lines = c.push(b"\nnext\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), LOG_LINE_MAX + CUT_MARK.len());
        assert!(lines[0].ends_with(CUT_MARK));
        assert_eq!(lines[1], "next");
    }
}
