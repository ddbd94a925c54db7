// index.ts — LangGraph.js on agentkv: a checkpointer and a store.
export { AgentKVSaver, type AgentKVSaverOptions } from './saver.js';
export { AgentKVStore, type AgentKVStoreOptions } from './store.js';
