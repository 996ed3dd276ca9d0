//! Generic building blocks every page is made of: frame, page header, empty state, error panel.

mod frame;
mod states;

pub use frame::{Breadcrumb, SideNav, TopBar};
pub use states::{EmptyState, ErrorPanel, PageHeader};
