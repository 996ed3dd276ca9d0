//! Connections whose peer stops reading: closed once a write has made no progress for a while.
//
// Hyper has no write timeout. A client that opens a live chart stream and never reads would keep
// its connection, its stream slot and the socket buffers for the stream's whole lifetime; with
// this, a write that cannot proceed for `limit` fails and hyper drops the connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Accepts like `inner`, each connection wrapped in [`Stalling`].
pub struct StallingListener<L> {
    inner: L,
    limit: Duration,
}

impl<L> StallingListener<L> {
    pub fn new(inner: L, limit: Duration) -> Self {
        StallingListener { inner, limit }
    }
}

impl<L: Listener> Listener for StallingListener<L> {
    type Io = Stalling<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        (Stalling::new(io, self.limit), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An IO whose writes fail with `TimedOut` when the peer has accepted nothing for `limit`.
pub struct Stalling<T> {
    io: T,
    limit: Duration,
    /// Armed when a write first could not proceed; disarmed by any progress.
    since: Option<Pin<Box<Sleep>>>,
}

impl<T> Stalling<T> {
    pub fn new(io: T, limit: Duration) -> Self {
        Stalling {
            io,
            limit,
            since: None,
        }
    }

    /// The connection inside.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// After a write that could not proceed: pending until `limit` has passed since the first
    /// such write, then the error that ends the connection.
    fn stalled<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let limit = self.limit;
        let timer = self
            .since
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer read nothing for {} s", limit.as_secs()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match poll {
            Poll::Pending => self.stalled(cx),
            ready => {
                self.since = None;
                ready
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Stalling<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Stalling<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_peer_that_never_reads_ends_the_write() {
        let (near, _far) = tokio::io::duplex(64);
        let mut io = Stalling::new(near, Duration::from_millis(200));
        let started = std::time::Instant::now();
        let err = io
            .write_all(&[7u8; 4096])
            .await
            .expect_err("nobody reads the other end");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_slow_reader_is_not_a_stalled_one() {
        // The reader takes 4 KiB in 64-byte reads every 20 ms (1.3 s in all), far beyond the
        // 200-ms limit overall, but it always makes progress within it.
        let (near, mut far) = tokio::io::duplex(64);
        let mut io = Stalling::new(near, Duration::from_millis(200));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while got.len() < 4096 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let n = far.read(&mut buf).await.expect("read");
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        io.write_all(&[7u8; 4096])
            .await
            .expect("the reader keeps up");
        let got = reader.await.expect("reader");
        assert_eq!(got.len(), 4096);
    }
}
