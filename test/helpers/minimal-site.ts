/**
 * The smallest site document the configuration accepts: one DMZ relay, one air-gapped relay, one
 * operator. Tests of one setting add theirs on top: top-level keys replace, `people` and
 * `airgappedManager` extend.
 */
export function minimalSiteDoc(extra: { [key: string]: unknown; people?: object; airgappedManager?: object } = {}) {
  const { people, airgappedManager, ...rest } = extra;
  return {
    id: 'plant1',
    dmz: {
      manager: { url: 'https://dsm-dmz:4119/api', apiKeyEnv: 'DMZ_KEY' },
      relay: { name: 'dmz-relay', computerId: 1 },
    },
    airgapped: {
      manager: { url: 'https://dsm-ag:4119/api', apiKeyEnv: 'AG_KEY', ...airgappedManager },
      relays: [{ name: 'ag-relay', computerId: 2 }],
    },
    people: { operators: ['op@plant1.example'], ...people },
    ...rest,
  };
}
