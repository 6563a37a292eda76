//! Stopping a read from another thread (a notebook's Ctrl-C): each input is read through
//! a reader that fails once the flag is set, so the pipeline ends the input at its next
//! chunk like any read error (the chunks already in flight are still parsed), and the
//! read returns [`super::LogError::Cancelled`].

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};

/// `inner`, failing every read once `flag` is set.
pub(super) struct Cancellable<'a, R> {
    pub inner: R,
    pub flag: Option<&'a AtomicBool>,
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if is_set(self.flag) {
            return Err(io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

/// Whether the flag is there and set.
pub(super) fn is_set(flag: Option<&AtomicBool>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
}
