// What an API token may do, named once: the config validates against this list and the API enforces it.
// read: the officers' API and page (search, events, snapshots, live view, cameras); replicate: what a station
// hub needs of a box (its changes, its status, snapshots by hash, and the live view it relays to its own
// signed-in officers); admin: everything. A token without scopes has read.
export type TokenScope = 'read' | 'replicate' | 'admin';
export const TOKEN_SCOPES = ['read', 'replicate', 'admin'] as const satisfies readonly TokenScope[];
