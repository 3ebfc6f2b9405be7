//! Heap accounting: the counting global allocator and [`heap_peak`], for
//! the targets' memory oracles.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Bytes this thread has allocated and not freed, and the most it has held.
    static HEAP: Cell<(isize, isize)> = const { Cell::new((0, 0)) };
}

/// The system allocator, counting each thread's live and peak heap bytes,
/// so that a target can check that memory follows the input's size and
/// never a length the input merely declares. Install it with
/// `#[global_allocator]` (the fuzz crate and the corpus replay do).
pub struct CountingAlloc;

fn count(delta: isize) {
    let _ = HEAP.try_with(|heap| {
        let (live, peak) = heap.get();
        let live = live.wrapping_add(delta);
        heap.set((live, peak.max(live)));
    });
}

// SAFETY: every call forwards to `System` with the caller's arguments; the
// counting touches only a const-initialized thread-local `Cell`, which
// neither allocates nor runs a destructor.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Runs `f` and returns its result with the most heap it held at once
/// beyond what was live before, or `None` when [`CountingAlloc`] is not
/// the global allocator.
pub fn heap_peak<T>(f: impl FnOnce() -> T) -> (T, Option<usize>) {
    let installed = {
        let before = HEAP.with(Cell::get).0;
        let probe = std::hint::black_box(Box::new(0u64));
        let during = HEAP.with(Cell::get).0;
        drop(probe);
        during != before
    };
    let start = HEAP.with(|heap| {
        let (live, _) = heap.get();
        heap.set((live, live));
        live
    });
    let result = f();
    let peak = HEAP.with(Cell::get).1;
    let grown = usize::try_from(peak - start).unwrap_or(0);
    (result, installed.then_some(grown))
}
