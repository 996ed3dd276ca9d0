//! Role bindings on SQLite and PostgreSQL, and the decision made from what is stored.

mod support;

use app::access::model::{Action, ClusterRef, Principal, Role, SubjectKind, Target};
use server::access::bindings::{self, BindingError, NewBinding};
use server::access::may;
use server::store::Db;

fn new(kind: &str, subject: &str, role: &str, cluster: &str) -> Result<NewBinding, BindingError> {
    NewBinding::parse(kind, subject, role, cluster, "ada")
}

async fn bindings_are_added_listed_and_removed(db: &Db) {
    let id = bindings::add(
        db,
        &new("group", "platform-ops", "operator", "").expect("valid"),
    )
    .await
    .expect("added");
    bindings::add(
        db,
        &new("user", "carol@example.com", "admin", "default/payments").expect("valid"),
    )
    .await
    .expect("added");
    let all = bindings::list(db).await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(
        (
            all[0].kind,
            all[0].subject.as_str(),
            all[0].role,
            all[0].cluster.clone()
        ),
        (SubjectKind::Group, "platform-ops", Role::Operator, None)
    );
    assert_eq!(all[1].cluster, Some(ClusterRef::new("default", "payments")));
    assert_eq!(all[1].created_by, "ada");

    let again = bindings::add(
        db,
        &new("group", "platform-ops", "operator", "").expect("valid"),
    )
    .await;
    assert!(matches!(again, Err(BindingError::Duplicate)), "{again:?}");
    bindings::remove(db, id).await.expect("removed");
    assert!(matches!(
        bindings::remove(db, id).await,
        Err(BindingError::NotFound(_))
    ));
    assert_eq!(bindings::list(db).await.expect("list").len(), 1);
}

async fn bad_bindings_are_refused_before_anything_is_stored(db: &Db) {
    for (kind, subject, role, cluster, says) in [
        ("group", "<script>alert(1)</script>", "admin", "", "markup"),
        ("group", "ops", "superuser", "", "not a role"),
        ("team", "ops", "admin", "", "not a subject kind"),
        ("group", "   ", "viewer", "", "empty"),
        ("group", "ops", "viewer", "payments", "not a cluster"),
        ("user", &"x".repeat(257), "viewer", "", "256"),
    ] {
        let err = new(kind, subject, role, cluster).expect_err(says);
        assert!(err.to_string().contains(says), "{err}");
    }
    assert!(bindings::list(db).await.expect("list").is_empty());
}

async fn the_bootstrap_group_is_a_global_admin_once(db: &Db) {
    bindings::bootstrap_admin(db, "portal-admins")
        .await
        .expect("bootstrap");
    bindings::bootstrap_admin(db, "portal-admins")
        .await
        .expect("idempotent");
    let all = bindings::list(db).await.expect("list");
    assert_eq!(all.len(), 1);
    let admin = Principal {
        subject: "u1".into(),
        name: "Ada".into(),
        groups: vec!["portal-admins".into()],
    };
    let stranger = Principal {
        subject: "u2".into(),
        name: "Eve".into(),
        groups: vec!["other".into()],
    };
    assert!(may(&admin, &all, Action::ManageAccess, &Target::Portal).is_allowed());
    assert!(!may(&stranger, &all, Action::ViewClusters, &Target::Portal).is_allowed());
}

on_both_databases!(
    bindings_are_added_listed_and_removed,
    bad_bindings_are_refused_before_anything_is_stored,
    the_bootstrap_group_is_a_global_admin_once,
);
