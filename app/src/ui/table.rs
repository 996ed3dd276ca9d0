//! A data table from a column list: sortable headers as links, an empty state, paging links.

use std::sync::Arc;

use leptos::prelude::*;

/// One column: its header, the sort key the server understands (if it sorts by it), and how a
/// row shows in it.
pub struct Column<R> {
    pub label: &'static str,
    /// Shown to screen readers only (e.g. the header of a column of buttons).
    pub hidden_label: bool,
    pub sort_key: Option<&'static str>,
    pub cell: Arc<dyn Fn(&R) -> AnyView + Send + Sync>,
}

impl<R> Column<R> {
    pub fn new(label: &'static str, cell: impl Fn(&R) -> AnyView + Send + Sync + 'static) -> Self {
        Column {
            label,
            hidden_label: false,
            sort_key: None,
            cell: Arc::new(cell),
        }
    }

    /// A column the server can sort by `key`.
    pub fn sortable(self, key: &'static str) -> Self {
        Column {
            sort_key: Some(key),
            ..self
        }
    }

    /// A header that only screen readers read.
    pub fn hidden(self) -> Self {
        Column {
            hidden_label: true,
            ..self
        }
    }
}

/// The address that sorts the rows by a key, ascending or (`true`) descending.
pub type SortHref = Arc<dyn Fn(&str, bool) -> String + Send + Sync>;

/// How the rows are sorted now, and the address that sorts them by a key (server-side, so that
/// sorting works without JavaScript and the address can be shared).
#[derive(Clone)]
pub struct Sorting {
    pub key: String,
    pub descending: bool,
    pub href: SortHref,
}

/// Links to the neighbouring pages (server-side paging): `(address, label)`.
#[derive(Clone, Default)]
pub struct Pager {
    pub previous: Option<(String, &'static str)>,
    pub next: Option<(String, &'static str)>,
}

/// The table, or `empty` when there are no rows; `pager` links follow the table.
///
/// The pager's and the sortable headers' links load the whole page (`rel="external"` keeps the
/// islands router out): that router patches a page by walking the old and new documents node by
/// node, which misplaces rows when a list changes length or order (and its keyed-list support
/// stops patching after the first list).
#[component]
pub fn DataTable<R>(
    label: &'static str,
    columns: Vec<Column<R>>,
    rows: Vec<R>,
    #[prop(optional)] sorting: Option<Sorting>,
    #[prop(optional)] pager: Option<Pager>,
    #[prop(optional, into)] empty: Option<ViewFn>,
) -> impl IntoView
where
    R: Send + Sync + 'static,
{
    if rows.is_empty()
        && let Some(empty) = empty
    {
        return empty.run();
    }
    // Headers and cells go into the page as HTML rendered here (escaped like any view), without the
    // islands router's branch markers: a cell never switches branch in place, and two marker
    // comments around every cell made the Access page a third larger.
    let headers: String = columns
        .iter()
        .map(|c| header(c.label, c.hidden_label, c.sort_key, sorting.as_ref()).to_html())
        .collect();
    let body: String = rows
        .iter()
        .map(|row| {
            let cells: String = columns
                .iter()
                .map(|c| format!("<td>{}</td>", (c.cell)(row).to_html()))
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    let pager = pager.filter(|p| p.previous.is_some() || p.next.is_some());
    // One root element, whatever is shown: what the islands router compares stays the same shape.
    view! {
        <div class="table-block">
            // Focusable, so a table wider than the page scrolls by keyboard too.
            <div class="table-wrap" tabindex="0" role="region" aria-label=format!("{label} (scrolls sideways when wide)")>
                <table class="data-table" aria-label=label>
                    <thead>
                        <tr inner_html=headers></tr>
                    </thead>
                    <tbody inner_html=body></tbody>
                </table>
            </div>
            {pager.map(|p| view! {
                <nav class="pager" aria-label="Pages">
                    {p.previous.map(|(href, text)| view! { <a href=href rel="prev external">{text}</a> })}
                    {p.next.map(|(href, text)| view! { <a href=href rel="next external">{text}</a> })}
                </nav>
            })}
        </div>
    }
    .into_any()
}

/// A column header: a link that sorts by it (and flips the order when it already does).
fn header(
    label: &'static str,
    hidden: bool,
    sort_key: Option<&'static str>,
    sorting: Option<&Sorting>,
) -> AnyView {
    let text = if hidden {
        view! { <span class="visually-hidden">{label}</span> }.into_any()
    } else {
        label.into_any()
    };
    let (Some(key), Some(sorting)) = (sort_key, sorting) else {
        return view! { <th scope="col">{text}</th> }.into_any();
    };
    let current = sorting.key == key;
    let aria_sort = match (current, sorting.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    let href = (sorting.href)(key, current && !sorting.descending);
    let arrow = match aria_sort {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a href=href class="sort-link" rel="external">{text}<span aria-hidden="true">{arrow}</span></a>
        </th>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    type Person = (&'static str, u32);

    fn columns() -> Vec<Column<Person>> {
        vec![
            Column::new("Name", |p: &Person| p.0.into_any()).sortable("name"),
            Column::new("Age", |p: &Person| p.1.to_string().into_any()).sortable("age"),
            Column::new("Remove", |_: &Person| "x".into_any()).hidden(),
        ]
    }

    fn html(make: impl FnOnce() -> AnyView) -> String {
        Owner::new().with(|| make().to_html())
    }

    #[test]
    fn headers_sort_through_links_and_say_which_way() {
        let sorting = Sorting {
            key: "name".into(),
            descending: false,
            href: Arc::new(|key, descending| format!("/people?sort={key}&desc={descending}")),
        };
        let out = html(|| {
            view! { <DataTable label="People" columns=columns() rows=vec![("Ada", 36)] sorting /> }
                .into_any()
        });
        // Sorted by name, ascending: its link flips the order; the other sorts ascending.
        assert!(out.contains(r#"aria-sort="ascending""#), "{out}");
        assert!(
            out.contains(r#"href="/people?sort=name&amp;desc=true""#),
            "{out}"
        );
        assert!(out.contains(r#"aria-sort="none""#), "{out}");
        assert!(
            out.contains(r#"href="/people?sort=age&amp;desc=false""#),
            "{out}"
        );
        // A column without a sort key is plain; a hidden header is for screen readers.
        assert!(
            out.contains(r#"<span class="visually-hidden">Remove</span>"#),
            "{out}"
        );
        assert!(
            out.contains("<td>Ada</td>") && out.contains("<td>36</td>"),
            "{out}"
        );
    }

    #[test]
    fn no_rows_show_the_empty_state_instead_of_a_table() {
        let out = html(|| {
            view! {
                <DataTable
                    label="People"
                    columns=columns()
                    rows=Vec::new()
                    empty=|| view! { <p>"Nobody yet"</p> }
                />
            }
            .into_any()
        });
        assert!(out.contains("<p>Nobody yet</p>"), "{out}");
        assert!(!out.contains("<table"), "{out}");
    }

    #[test]
    fn paging_links_load_the_whole_page() {
        let pager = Pager {
            previous: None,
            next: Some(("/people?before=7".into(), "Older →")),
        };
        let out = html(|| {
            view! { <DataTable label="People" columns=columns() rows=vec![("Ada", 36)] pager /> }
                .into_any()
        });
        assert!(
            out.contains(r#"<a href="/people?before=7" rel="next external">Older →</a>"#),
            "{out}"
        );
        assert!(!out.contains(r#"rel="prev"#), "{out}");
    }
}
