//! A counting global allocator for the allocation tests, shared by every test crate
//! that includes it (`#[path = "common/alloc.rs"] mod alloc;`).
//!
//! Counting is per thread, so tests running in parallel do not see each other's
//! allocations. Allocations aligned to 32 bytes or more are counted apart: those are
//! matrixmultiply's GEMM packing buffers (ndtrain's own buffers use the default
//! alignment of their element type).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// What the counted closure allocated on this thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Allocations and reallocations aligned to less than 32 bytes.
    pub ordinary: usize,
    /// Allocations aligned to 32 bytes or more (GEMM packing).
    pub gemm_packing: usize,
    /// Bytes allocated and not yet freed when the closure returned.
    pub live_bytes: isize,
}

impl Counts {
    /// Every allocation, packing included.
    pub fn total(&self) -> usize {
        self.ordinary + self.gemm_packing
    }
}

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNTS: Cell<Counts> = const {
        Cell::new(Counts { ordinary: 0, gemm_packing: 0, live_bytes: 0 })
    };
    /// Every allocation of this thread, counted whether or not counting is on.
    static RUNNING: Cell<usize> = const { Cell::new(0) };
}

/// Applies `f` to this thread's counts while counting is on. `try_with`: the
/// thread-locals may already be gone while a thread shuts down.
fn note(f: impl FnOnce(&mut Counts)) {
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNTS.try_with(|c| {
                let mut counts = c.get();
                f(&mut counts);
                c.set(counts);
            });
        }
    });
}

fn note_alloc(layout: Layout) {
    let _ = RUNNING.try_with(|r| r.set(r.get() + 1));
    note(|c| {
        if layout.align() >= 32 {
            c.gemm_packing += 1;
        } else {
            c.ordinary += 1;
        }
        c.live_bytes += layout.size() as isize;
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = RUNNING.try_with(|r| r.set(r.get() + 1));
        note(|c| {
            c.ordinary += 1;
            c.live_bytes += new_size as isize - layout.size() as isize;
        });
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(|c| c.live_bytes -= layout.size() as isize);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with counting on; returns what it allocated on this thread, and its value.
pub fn count<R>(f: impl FnOnce() -> R) -> (Counts, R) {
    COUNTS.with(|c| c.set(Counts::default()));
    ON.with(|on| on.set(true));
    let r = f();
    ON.with(|on| on.set(false));
    (COUNTS.with(Cell::get), r)
}

/// The number of allocations (packing included) `f` made on this thread.
pub fn allocations(f: impl FnOnce()) -> usize {
    count(f).0.total()
}

/// Allocations (and reallocations) this thread has made so far: compare two readings.
pub fn allocs() -> usize {
    RUNNING.with(Cell::get)
}
