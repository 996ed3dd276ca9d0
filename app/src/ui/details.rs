//! A key–value details list (a cluster's overview, a node's facts).

use leptos::prelude::*;

/// `<dl>` of `(term, value)` pairs, in order.
#[component]
pub fn DetailsList(label: &'static str, items: Vec<(&'static str, AnyView)>) -> impl IntoView {
    view! {
        <dl class="details" aria-label=label>
            {items
                .into_iter()
                .map(|(term, value)| view! { <div class="detail"><dt>{term}</dt><dd>{value}</dd></div> })
                .collect_view()}
        </dl>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn terms_and_values_stay_in_order() {
        let out = Owner::new().with(|| {
            view! {
                <DetailsList
                    label="Cluster"
                    items=vec![("Version", "v1.33.5".into_any()), ("Region", "westeurope".into_any())]
                />
            }
            .to_html()
        });
        let version = out.find("<dt>Version</dt><dd>v1.33.5</dd>");
        let region = out.find("<dt>Region</dt><dd>westeurope</dd>");
        assert!(version.is_some() && region.is_some(), "{out}");
        assert!(version < region, "{out}");
        assert!(
            out.contains(r#"<dl aria-label="Cluster" class="details">"#),
            "{out}"
        );
    }
}
