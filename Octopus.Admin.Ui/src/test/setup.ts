import { configure } from '@testing-library/svelte';

// Pages are lazy-loaded chunks; on a loaded 2-core CI machine their first import can take over the default 1 s.
configure({ asyncUtilTimeout: 5000 });
