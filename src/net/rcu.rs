// SPDX-License-Identifier: GPL-2.0

//! Objects freed after an RCU grace period, as `kfree_rcu` frees them in C.

use crate::bindings;
use core::{
    marker::PhantomData, //
    ptr::NonNull,
    sync::atomic::{
        AtomicPtr, //
        Ordering,
    },
};
use kernel::{
    prelude::*, //
    types::{
        ForeignOwnable, //
        Opaque,
    },
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
    /// The box's own foreign pointer ([`ForeignOwnable::into_foreign`]),
    /// recorded once the box is foreign-owned, for the callback that takes
    /// it back.
    foreign: AtomicPtr<c_void>,
    value: T,
}

/// The owner of an [`RcuBox`] while C holds it (in a socket's
/// `sk_user_data`): the kernel's `KBox`, through [`ForeignOwnable`].
type Owner<T> = KBox<RcuBox<T>>;

/// A heap `T` that readers may reach under RCU until it is retired.
///
/// The value is handed to C as a foreign-owned [`KBox`]
/// ([`ForeignOwnable`]): readers borrow it for their read-side section, and
/// dropping this owner does not take it back at once: it queues that after
/// a grace period, once no borrow is left, so RCU readers that found it keep
/// a valid object. Module exit must wait for those frees with
/// [`RcuBarrier`].
///
/// # Invariants
///
/// `foreign` is from `Owner::<T>::into_foreign`, not yet taken back, and
/// from [`RcuOwned::new`]'s return on the box's `foreign` field holds it;
/// this value owns it.
pub(crate) struct RcuOwned<T: Send + Sync + 'static> {
    foreign: NonNull<c_void>,
    _p: PhantomData<T>,
}

// SAFETY: `RcuOwned<T>` owns a `T` and hands out `&T` only.
unsafe impl<T: Send + Sync + 'static> Send for RcuOwned<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync + 'static> Sync for RcuOwned<T> {}

impl<T: Send + Sync + 'static> RcuOwned<T> {
    /// Allocates `value`.
    pub(crate) fn new(value: T) -> Result<Self> {
        let foreign = Owner::new(
            RcuBox {
                head: Opaque::uninit(),
                foreign: AtomicPtr::new(core::ptr::null_mut()),
                value,
            },
            GFP_KERNEL,
        )?
        .into_foreign();
        // INVARIANT: foreign-owned just now (never NULL: `into_foreign`'s
        // guarantee), recorded in the box before this returns.
        let owned = RcuOwned::<T> {
            foreign: NonNull::new(foreign).ok_or(ENOMEM)?,
            _p: PhantomData,
        };
        owned.boxed().foreign.store(foreign, Ordering::Relaxed);
        Ok(owned)
    }

    /// The box, for as long as `self` owns it.
    fn boxed(&self) -> &RcuBox<T> {
        // SAFETY: foreign-owned and not taken back while `self` lives (type
        // invariant): only `drop` queues the callback that takes it back.
        unsafe { Owner::<T>::borrow(self.foreign.as_ptr()) }
    }

    /// The address RCU readers are given.
    pub(crate) fn as_ptr(&self) -> *mut c_void {
        self.foreign.as_ptr()
    }

    /// Returns the value a reader found at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`RcuOwned::as_ptr`] of an `RcuOwned<T>`, read inside
    /// `_rcu`, before the owner was dropped. The reference lives no longer
    /// than `_rcu`.
    pub(crate) unsafe fn from_rcu_ptr<'a>(ptr: *mut c_void, _rcu: ReadSection<'a>) -> &'a T {
        // SAFETY: `ptr` is the box's foreign pointer (guaranteed by the
        // caller); it is taken back (`free_rcu_box`) only after the grace
        // period that follows `_rcu`'s section, which `'a` does not outlive.
        unsafe { &Owner::<T>::borrow(ptr).value }
    }
}

impl<T: Send + Sync + 'static> core::ops::Deref for RcuOwned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.boxed().value
    }
}

/// The `call_rcu` callback: takes the box back and frees it.
///
/// # Safety
///
/// `head` is the `rcu_head` of an `RcuBox<T>` that [`RcuOwned::drop`]
/// gave up with `call_rcu`, called once, after its grace period.
unsafe extern "C" fn free_rcu_box<T: Send + Sync + 'static>(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the first field of a `#[repr(C)] RcuBox<T>` (a
    // pointer to the whole box, from `RcuOwned::drop`), whose `foreign` is
    // its foreign pointer (stored before its owner could be dropped; the
    // grace period orders it before this), given up by its owner; the grace
    // period is over, so no reader's borrow is left, and this is the one
    // time it is taken back.
    drop(unsafe { Owner::<T>::from_foreign((*head.cast::<RcuBox<T>>()).foreign.load(Ordering::Relaxed)) });
}

impl<T: Send + Sync + 'static> Drop for RcuOwned<T> {
    fn drop(&mut self) {
        let b: *const RcuBox<T> = self.boxed();
        // SAFETY: the box is foreign-owned and ours (type invariant);
        // ownership passes to the callback, which takes it back after a
        // grace period, after the readers' borrows. The head's address is
        // taken from a pointer to the whole box, as the callback reads the
        // box from it. Module exit waits for it (`RcuBarrier`).
        unsafe { bindings::call_rcu(Opaque::cast_into(&raw const (*b).head), Some(free_rcu_box::<T>)) };
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
