export { storeTestKit, type StoreFixture } from './store-spec.js';
