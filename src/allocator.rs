//! The binary's allocator: mimalloc, returning freed memory at once.

/// mimalloc rather than glibc's malloc: at a thousand engines glibc kept the start-up's
/// burst of connection buffers as resident memory long after they were freed, and its
/// arena locks made threads wait on each other (about a quarter of the idle CPU).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options `arena_eager_commit` and `purge_delay` (their place in its
/// `mi_option_t`; the binding names neither).
const MI_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once, and arenas are committed as used: on a
/// system that overcommits, mimalloc commits its first arena whole and never returns what
/// a burst touched. It must run before Rust's first allocation (which creates that arena),
/// so it runs as the program is loaded, before `main`.
extern "C" fn return_freed_memory() {
    // SAFETY: setting an option has no preconditions; it only changes later decisions.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_PURGE_DELAY, 0);
    }
}

#[used]
#[unsafe(link_section = ".init_array")]
static RETURN_FREED_MEMORY: extern "C" fn() = return_freed_memory;
