//! A Zenoh router (the zenoh runtime in router mode, as zenohd runs it) with the official
//! remote-api plugin linked in statically, so TypeScript clients (`@eclipse-zenoh/zenoh-ts`)
//! reach it over a websocket. zenohd loads that plugin as a shared library that must be built by
//! the same compiler as zenohd itself; linking it here makes one build of one binary instead.
//!
//! Usage: zenoh-router '<json5 config>' — the config is zenohd's, `plugins.remote_api` included.
use zenoh::internal::plugins::PluginsManager;
use zenoh::internal::runtime::RuntimeBuilder;
use zenoh::Config;
use zenoh_plugin_remote_api::RemoteApiPlugin;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    zenoh::init_log_from_env_or("warn");
    let json = std::env::args().nth(1).expect("usage: zenoh-router '<json5 config>'");
    let config = Config::from_json5(&json).expect("invalid zenoh config");
    let mut plugins = PluginsManager::static_plugins_only();
    plugins.declare_static_plugin::<RemoteApiPlugin, _>("remote_api", true);
    let mut runtime = RuntimeBuilder::new(config)
        .plugins_manager(plugins)
        .build()
        .await
        .expect("router failed to build");
    runtime.start().await.expect("router failed to start");
    println!("zenoh-router ready {}", runtime.zid());
    tokio::signal::ctrl_c().await.ok();
}
