// SPDX-License-Identifier: GPL-2.0
//! A QEMU TCG plugin (plugin API version 1, QEMU 7.2 and later) that counts
//! the guest instructions executed per translation block start address, for
//! `make profile` (tests/icount/profile).
//!
//! Arguments: `mark=ADDR` (hex, a guest virtual address) and `out=DIR`.
//! Every time a translation block starting at ADDR runs (the guest calls
//! the marker function), the counts gathered since the last snapshot are
//! written to `DIR/snap-N` as `ADDR COUNT` lines (hex address, decimal
//! count; blocks that did not run are left out) and reset. A block's
//! instructions are charged to its start address, which lies in the
//! function the block belongs to: blocks end at every branch, so a block
//! crosses into another function only by falling through its end.
//!
//! The counting is an inline add per block execution (no callback): exact
//! with QEMU's `-icount`, where instructions are what the guest clock
//! counts.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

#[allow(non_camel_case_types)]
type qemu_plugin_id_t = u64;

#[repr(C)]
struct QemuPluginTb {
    _opaque: [u8; 0],
}

const QEMU_PLUGIN_CB_NO_REGS: c_int = 0;
const QEMU_PLUGIN_INLINE_ADD_U64: c_int = 0;

extern "C" {
    fn qemu_plugin_register_vcpu_tb_trans_cb(
        id: qemu_plugin_id_t,
        cb: extern "C" fn(qemu_plugin_id_t, *mut QemuPluginTb),
    );
    fn qemu_plugin_register_vcpu_tb_exec_cb(
        tb: *mut QemuPluginTb,
        cb: extern "C" fn(c_uint, *mut c_void),
        flags: c_int,
        userdata: *mut c_void,
    );
    fn qemu_plugin_register_vcpu_tb_exec_inline(
        tb: *mut QemuPluginTb,
        op: c_int,
        ptr: *mut c_void,
        imm: u64,
    );
    fn qemu_plugin_tb_n_insns(tb: *const QemuPluginTb) -> usize;
    fn qemu_plugin_tb_vaddr(tb: *const QemuPluginTb) -> u64;
}

#[no_mangle]
pub static qemu_plugin_version: c_int = 1;

struct State {
    mark: u64,
    out: PathBuf,
    snapshots: usize,
    /// One counter per block start address, boxed so that its address
    /// (given to QEMU's inline add) stays put while the map grows. Never
    /// freed: QEMU may keep translated blocks until it exits.
    counters: HashMap<u64, Box<u64>>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

extern "C" fn snapshot(_vcpu: c_uint, _udata: *mut c_void) {
    let mut guard = STATE.lock().unwrap();
    let st = guard.as_mut().unwrap();
    let path = st.out.join(format!("snap-{}", st.snapshots));
    st.snapshots += 1;
    let mut text = String::new();
    for (addr, count) in st.counters.iter_mut() {
        if **count != 0 {
            text.push_str(&format!("{addr:x} {}\n", **count));
            **count = 0;
        }
    }
    if let Err(e) = fs::File::create(&path).and_then(|mut f| f.write_all(text.as_bytes())) {
        eprintln!("fou-icount-plugin: cannot write {}: {e}", path.display());
    }
}

extern "C" fn translated(_id: qemu_plugin_id_t, tb: *mut QemuPluginTb) {
    // SAFETY: `tb` is the block QEMU is translating, valid for this call.
    let (vaddr, n) = unsafe { (qemu_plugin_tb_vaddr(tb), qemu_plugin_tb_n_insns(tb)) };
    let mut guard = STATE.lock().unwrap();
    let st = guard.as_mut().unwrap();
    if vaddr == st.mark {
        // SAFETY: as above; `snapshot` takes no user data.
        unsafe {
            qemu_plugin_register_vcpu_tb_exec_cb(tb, snapshot, QEMU_PLUGIN_CB_NO_REGS, std::ptr::null_mut())
        };
    }
    let counter: *mut u64 = &mut **st.counters.entry(vaddr).or_insert_with(|| Box::new(0));
    // SAFETY: the counter is a live, never-freed u64 (see `State::counters`).
    unsafe { qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, counter.cast(), n as u64) };
}

/// # Safety
/// Called by QEMU with `argc` valid C strings in `argv`.
#[no_mangle]
pub unsafe extern "C" fn qemu_plugin_install(
    id: qemu_plugin_id_t,
    _info: *const c_void,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    let mut mark = None;
    let mut out = None;
    for i in 0..argc.max(0) as usize {
        // SAFETY: QEMU passes `argc` NUL-terminated strings.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) }.to_string_lossy().into_owned();
        match arg.split_once('=') {
            Some(("mark", v)) => mark = u64::from_str_radix(v.trim_start_matches("0x"), 16).ok(),
            Some(("out", v)) => out = Some(PathBuf::from(v)),
            _ => {
                eprintln!("fou-icount-plugin: unknown argument {arg}");
                return -1;
            }
        }
    }
    let (Some(mark), Some(out)) = (mark, out) else {
        eprintln!("fou-icount-plugin: needs mark=HEXADDR and out=DIR");
        return -1;
    };
    *STATE.lock().unwrap() = Some(State { mark, out, snapshots: 0, counters: HashMap::new() });
    // SAFETY: `id` is this plugin's id, given to this call.
    unsafe { qemu_plugin_register_vcpu_tb_trans_cb(id, translated) };
    0
}
