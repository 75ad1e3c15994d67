export { startObserver, type Observer, type ObserverOptions } from './observer.js';
export { ClusterView, type NodeView, type Sample, type ClusterViewOptions } from './cluster-view.js';
