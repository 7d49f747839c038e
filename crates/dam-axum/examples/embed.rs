//! A host application that mounts DAM Core's image API under `/api/dam`, beside its own
//! routes and fallback, with its own authentication (bearer tokens) instead of `X-API-KEY`.
//!
//! `cargo run -p dam-axum --example embed`, then
//! `curl -H 'Authorization: Bearer acme-token' 'http://127.0.0.1:3000/api/dam/image?$top=2'`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use dam_axum::{async_trait, DamApi, Refusal, TenantResolver};
use dam_core::store::SeedStore;
use dam_core::{Fixture, ImageService, TenantId};
use dam_store_memory::MemoryStore;

/// The host's own state; DAM's router fits beside it whatever it is.
#[derive(Clone)]
pub struct Shop {
    pub name: &'static str,
}

/// The host's authentication: `Authorization: Bearer <token>`, one tenant per token.
pub struct BearerTokens(HashMap<String, TenantId>);

impl BearerTokens {
    pub fn new(tokens: HashMap<String, TenantId>) -> Self {
        BearerTokens(tokens)
    }
}

#[async_trait]
impl TenantResolver for BearerTokens {
    async fn resolve(&self, request: &Parts) -> Result<TenantId, Refusal> {
        request
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|token| self.0.get(token))
            .cloned()
            .ok_or_else(|| Refusal::unauthorized("A valid bearer token is required."))
    }
}

/// The host's application: its own routes and fallback, DAM under `/api/dam` with DAM's
/// layers (body and time limits, problem answers, request log) on DAM's routes only.
pub fn app(service: ImageService, tokens: BearerTokens) -> Router {
    let dam = DamApi::new(service).with_tenant_resolver(tokens);
    Router::new()
        .route("/", get(home))
        .nest("/api/dam", dam.layers().apply(dam.router()))
        .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
        .with_state(Shop { name: "the shop" })
}

async fn home(State(shop): State<Shop>) -> String {
    format!("welcome to {}", shop.name)
}

/// A memory store with two tenants: `acme` (ids 1–25, 7 and 14 being processed) and
/// `globex` (ids 101–103).
pub async fn demo_service() -> Result<ImageService, Box<dyn std::error::Error>> {
    let image = |id: u32, status: &str| {
        format!(
            r#"{{ "id": {id}, "reference": "img-{id}.jpg", "fileType": "jpg",
                "status": "{status}", "createdOn": "2024-04-05T08:44:33" }}"#
        )
    };
    let acme: Vec<String> = (1..=25)
        .map(|id| image(id, if id % 7 == 0 { "Up" } else { "Ok" }))
        .collect();
    let globex: Vec<String> = (101..=103).map(|id| image(id, "Ok")).collect();
    let fixture = Fixture::from_json(&format!(
        r#"{{ "tenants": [
            {{ "name": "acme", "apiKeys": [], "images": [{}] }},
            {{ "name": "globex", "apiKeys": [], "images": [{}] }} ] }}"#,
        acme.join(","),
        globex.join(",")
    ))?;
    let store = Arc::new(MemoryStore::new());
    store.load_fixture(&fixture).await?;
    Ok(ImageService::new(store.clone(), store))
}

/// `acme-token` → acme, `globex-token` → globex.
pub fn demo_tokens() -> Result<BearerTokens, Box<dyn std::error::Error>> {
    let mut tokens = HashMap::new();
    tokens.insert("acme-token".to_string(), TenantId::new("acme")?);
    tokens.insert("globex-token".to_string(), TenantId::new("globex")?);
    Ok(BearerTokens::new(tokens))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = app(demo_service().await?, demo_tokens()?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
