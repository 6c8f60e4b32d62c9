// SPDX-License-Identifier: GPL-2.0

//! Objects freed after an RCU grace period, as `kfree_rcu` frees them in C.

use crate::bindings;
use core::{
    marker::PhantomData, //
    ptr::NonNull,
};
use kernel::{
    prelude::*, //
    types::Opaque,
};

/// Proof that the code holding it runs inside an RCU read-side critical
/// section that lasts at least `'a`: made from a held
/// [`kernel::sync::rcu::Guard`], or, in a callback the kernel always calls
/// inside one, without taking the lock a second time (it costs two calls
/// per packet).
#[derive(Clone, Copy)]
pub(crate) struct ReadSection<'a>(PhantomData<&'a kernel::sync::rcu::Guard>);

impl<'a> From<&'a kernel::sync::rcu::Guard> for ReadSection<'a> {
    fn from(_guard: &'a kernel::sync::rcu::Guard) -> Self {
        ReadSection(PhantomData)
    }
}

impl ReadSection<'_> {
    /// The read-side critical section the caller is already in.
    ///
    /// # Safety
    ///
    /// The caller runs inside an RCU read-side critical section that lasts
    /// as long as the returned value is used.
    pub(crate) unsafe fn assume_held<'a>() -> ReadSection<'a> {
        ReadSection(PhantomData)
    }
}

/// A `T` with the `rcu_head` that defers its freeing past a grace period.
#[repr(C)]
struct RcuBox<T> {
    /// First, so that a pointer to the head is a pointer to the box.
    head: Opaque<bindings::callback_head>,
    value: T,
}

/// A heap `T` that readers may reach under RCU until it is retired.
///
/// Dropping it does not free `T` at once: it queues the free after a grace
/// period, so RCU readers that found it keep a valid object. Module exit
/// must wait for those frees with [`RcuBarrier`].
///
/// # Invariants
///
/// `ptr` is a live `RcuBox<T>` from `KBox::into_raw`, owned by this value.
pub(crate) struct RcuOwned<T: Send + Sync + 'static> {
    ptr: NonNull<RcuBox<T>>,
}

// SAFETY: `RcuOwned<T>` owns a `T` and hands out `&T` only.
unsafe impl<T: Send + Sync + 'static> Send for RcuOwned<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync + 'static> Sync for RcuOwned<T> {}

impl<T: Send + Sync + 'static> RcuOwned<T> {
    /// Allocates `value`.
    pub(crate) fn new(value: T) -> Result<Self> {
        let b = KBox::new(
            RcuBox {
                head: Opaque::uninit(),
                value,
            },
            GFP_KERNEL,
        )?;
        // INVARIANT: from `KBox::into_raw`, owned here.
        Ok(RcuOwned {
            ptr: NonNull::from(KBox::leak(b)),
        })
    }

    /// The address RCU readers are given.
    pub(crate) fn as_ptr(&self) -> *mut core::ffi::c_void {
        self.ptr.as_ptr().cast()
    }

    /// Returns the value a reader found at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`RcuOwned::as_ptr`] of an `RcuOwned<T>`, read inside
    /// `_rcu`, before the owner was dropped. The reference lives no longer
    /// than `_rcu`.
    pub(crate) unsafe fn from_rcu_ptr<'a>(ptr: *mut core::ffi::c_void, _rcu: ReadSection<'a>) -> &'a T {
        // SAFETY: guaranteed by the caller: the box is not freed before the
        // grace period that follows the read-side section of `_rcu`, which
        // the reference does not outlive.
        unsafe { &(*ptr.cast::<RcuBox<T>>()).value }
    }
}

impl<T: Send + Sync + 'static> core::ops::Deref for RcuOwned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `ptr` is live while `self` is (type invariant).
        unsafe { &self.ptr.as_ref().value }
    }
}

/// The `call_rcu` callback: frees the box.
///
/// # Safety
///
/// `head` is the `rcu_head` of an `RcuBox<T>` that [`RcuOwned::drop`]
/// gave up with `call_rcu`, called once, after its grace period.
unsafe extern "C" fn free_rcu_box<T: Send + Sync + 'static>(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the first field of a `#[repr(C)] RcuBox<T>` queued
    // by `RcuOwned::drop`, which gave up ownership; the grace period is over.
    drop(unsafe { KBox::from_raw(head.cast::<RcuBox<T>>()) });
}

impl<T: Send + Sync + 'static> Drop for RcuOwned<T> {
    fn drop(&mut self) {
        // SAFETY: `ptr` is live and owned (type invariant); ownership passes
        // to the callback, which frees it after a grace period. Module exit
        // waits for it (`RcuBarrier`).
        unsafe {
            bindings::call_rcu(
                Opaque::cast_into(&raw const (*self.ptr.as_ptr()).head),
                Some(free_rcu_box::<T>),
            )
        };
    }
}

/// Waits, when dropped, for every queued RCU callback: the last field of the
/// module, so no callback runs after the module's code is gone.
pub(crate) struct RcuBarrier;

impl Drop for RcuBarrier {
    fn drop(&mut self) {
        // SAFETY: `rcu_barrier` may be called from process context.
        unsafe { bindings::rcu_barrier() };
    }
}

#[kunit_tests(fou_rs_rcu)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_value_lives_until_its_readers_are_done() -> Result {
        // Allocated before the read section, which must not sleep.
        let owned = RcuOwned::new([0x5au8; 64])?;
        let guard = kernel::sync::rcu::read_lock();
        let ptr = owned.as_ptr();
        // Retired while a reader (this section) may still hold `ptr`.
        drop(owned);
        // SAFETY: `ptr` came from `as_ptr` and was read inside `guard`'s
        // section, which has not ended: the grace period that frees the
        // value cannot have passed. (Freed at once, it would be reused or
        // poisoned: the allocator writes its free pointer into it.)
        let value = unsafe { RcuOwned::<[u8; 64]>::from_rcu_ptr(ptr, ReadSection::from(&guard)) };
        assert!(value.iter().all(|b| *b == 0x5a));
        Ok(())
    }

    /// Set when a [`Witness`] is dropped.
    static DROPPED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

    /// A value that says when it is dropped.
    struct Witness;

    impl Drop for Witness {
        fn drop(&mut self) {
            DROPPED.store(true, core::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The same property, seen on any allocator (one that keeps a freed
    /// object's bytes, as the debug kernel's red-zoned slabs do, would hide
    /// an early free from the case above): a retired value is dropped only
    /// after the readers of its time are done.
    #[test]
    fn a_dropped_value_is_not_dropped_before_its_grace_period() -> Result {
        DROPPED.store(false, core::sync::atomic::Ordering::SeqCst);
        let owned = RcuOwned::new(Witness)?;
        let guard = kernel::sync::rcu::read_lock();
        drop(owned);
        let early = DROPPED.load(core::sync::atomic::Ordering::SeqCst);
        drop(guard);
        // Waits for the callback, as module exit does.
        drop(RcuBarrier);
        assert!(!early);
        assert!(DROPPED.load(core::sync::atomic::Ordering::SeqCst));
        Ok(())
    }
}
