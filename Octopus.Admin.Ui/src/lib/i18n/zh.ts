import type { Messages } from './index.svelte';
const zh: Partial<Messages> = {};
export default zh as Messages;
