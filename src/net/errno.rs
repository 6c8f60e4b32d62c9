// SPDX-License-Identifier: GPL-2.0

//! Error codes FOU returns that `kernel::error::code` does not define.

use crate::bindings;
use kernel::prelude::*;

/// Makes the `Error` for a positive errno value from the generated bindings.
fn err(errno: u32) -> Error {
    // CAST: errno values are small positive numbers (< 4096), so the
    // conversion to `c_int` is lossless.
    Error::from_errno(-(errno as c_int))
}

/// Address family not supported by protocol.
pub(crate) fn eafnosupport() -> Error {
    err(bindings::EAFNOSUPPORT)
}

/// Address already in use.
pub(crate) fn eaddrinuse() -> Error {
    err(bindings::EADDRINUSE)
}

/// Operation not supported (on this transport endpoint).
pub(crate) fn eopnotsupp() -> Error {
    err(bindings::EOPNOTSUPP)
}

/// Function not implemented (an inner protocol without GRO completion).
pub(crate) fn enosys() -> Error {
    err(bindings::ENOSYS)
}

/// `to_result` inline: `kernel::error::to_result` is a call on every path,
/// including the one that succeeds (per packet on transmit, per attribute
/// in a dump); only the error is made out of line.
#[inline(always)]
pub(crate) fn check(ret: c_int) -> Result {
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(())
}
