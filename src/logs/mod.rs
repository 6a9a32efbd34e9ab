//! Container logs without IO: the engine's frames joined into safe, bounded lines
//! (`Assembler`), many instances merged in time order (`Merger`), and the newest lines a
//! view keeps (`LogBuffer`). The engines' streams feed them (`docker::logs`).

mod assemble;
mod merge;

pub use assemble::{Assembler, DEFAULT_MAX_LINE};
pub use merge::{DEFAULT_BUFFER_LINES, LogBuffer, Merger, REORDER_WINDOW};
