//! Members and guests through the SDK against the fake: a guest's email, `+` and `%` in
//! it, reaches the fake intact in the path, and member-only callers are refused what
//! only administrators may do.

use std::time::Duration;

use tallyfy::{Client, Execute, RetryPolicy};
use tallyfy_fake::{FakeServer, MEMBER_USER_ID};

fn client(fake: &FakeServer, token: &str) -> Client {
    Client::builder(token)
        .base_url(fake.base_url())
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_guest_with_plus_and_percent_in_the_email_is_found_by_get_guest() {
    let fake = FakeServer::start().await.unwrap();
    let client = client(&fake, fake.admin_token());
    let org = fake.org_id();

    let seeded = client
        .get_guest()
        .org_id(org)
        .guest_email("client+ops@example.com")
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(seeded.email.as_deref(), Some("client+ops@example.com"));

    let email = "a+b%40@example.com";
    client
        .create_guest()
        .org_id(org)
        .body_map(|b| b.email(email))
        .execute()
        .await
        .unwrap();
    let found = client
        .get_guest()
        .org_id(org)
        .guest_email(email)
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(found.email.as_deref(), Some(email));
    let deleted = client
        .delete_guest()
        .org_id(org)
        .guest_email(email)
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(deleted.email.as_deref(), Some(email));
    let again = client
        .get_guest()
        .org_id(org)
        .guest_email(email)
        .execute()
        .await
        .unwrap_err();
    assert_eq!(again.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_member_lists_members_but_may_not_read_or_change_one() {
    let fake = FakeServer::start().await.unwrap();
    let member = client(&fake, fake.member_token());
    let org = fake.org_id();
    let page = member.list_members().org_id(org).execute().await.unwrap();
    assert!(page.data.len() >= 2);
    let refused = member
        .get_member()
        .org_id(org)
        .user_id(MEMBER_USER_ID.to_string())
        .execute()
        .await
        .unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(403));
}
