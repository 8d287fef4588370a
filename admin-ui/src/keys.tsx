/** Keys: the list with this month's spend, a create form (the secret is shown once), edit and revoke. */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { call, type KeyRow } from './api.ts';
import { day, usd } from './format.ts';

const TIERS = ['', 'default', 'flex', 'priority', 'reserved'];

interface FormValues {
  name: string;
  user: string;
  service_tier: string;
  rate_limit_rpm: string;
  tokens_per_minute: string;
  budget_usd: string;
  concurrent_requests: string;
  models: string;
  expires: string;
}

const EMPTY: FormValues = {
  name: '',
  user: '',
  service_tier: '',
  rate_limit_rpm: '',
  tokens_per_minute: '',
  budget_usd: '',
  concurrent_requests: '',
  models: '',
  expires: '',
};

function valuesOf(key: KeyRow): FormValues {
  const s = (v: unknown) => (v == null ? '' : String(v));
  return {
    name: s(key.name),
    user: s(key.user),
    service_tier: s(key.service_tier),
    rate_limit_rpm: s(key.rate_limit_rpm),
    tokens_per_minute: s(key.tokens_per_minute),
    budget_usd: s(key.budget_usd),
    concurrent_requests: s(key.concurrent_requests),
    models: key.models ? key.models.join(', ') : '',
    expires: '',
  };
}

/** Empty fields are sent as null: "not set". */
function body(values: FormValues, withExpiry: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name === 'expires' && !withExpiry) continue;
    out[name] = value.trim() === '' ? null : value.trim();
  }
  return out;
}

function KeyForm(props: {
  idPrefix: string;
  initial: FormValues;
  withExpiry: boolean;
  submitLabel: string;
  onSubmit: (values: FormValues) => Promise<void>;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState(props.initial);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const field = (name: keyof FormValues, label: string, attrs: Record<string, string> = {}) => {
    const id = `${props.idPrefix}-${name}`;
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <input
          id={id}
          name={name}
          value={values[name]}
          onInput={(e) => setValues({ ...values, [name]: (e.target as HTMLInputElement).value })}
          {...attrs}
        />
      </div>
    );
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await props.onSubmit(values);
      if (props.withExpiry) setValues(props.initial);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="key-form" onSubmit={submit}>
      <div class="fields">
        {field('name', 'Name', { autocomplete: 'off' })}
        {field('user', 'User', { autocomplete: 'off' })}
        <div class="field">
          <label for={`${props.idPrefix}-service_tier`}>Service tier</label>
          <select
            id={`${props.idPrefix}-service_tier`}
            value={values.service_tier}
            onChange={(e) => setValues({ ...values, service_tier: (e.target as HTMLSelectElement).value })}
          >
            {TIERS.map((t) => (
              <option key={t} value={t}>
                {t || 'gateway default'}
              </option>
            ))}
          </select>
        </div>
        {field('rate_limit_rpm', 'Requests per minute', { inputmode: 'numeric' })}
        {field('tokens_per_minute', 'Tokens per minute', { inputmode: 'numeric' })}
        {field('budget_usd', 'Monthly budget (USD)', { inputmode: 'decimal' })}
        {field('concurrent_requests', 'Requests at once', { inputmode: 'numeric' })}
        {field('models', 'Allowed models (globs, comma-separated)', { placeholder: 'all models' })}
        {props.withExpiry ? field('expires', 'Expires after (e.g. 30d)', { placeholder: 'never' }) : null}
      </div>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel ? (
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function limitsText(key: KeyRow): string {
  const parts: string[] = [];
  if (key.rate_limit_rpm) parts.push(`${key.rate_limit_rpm} req/min`);
  if (key.tokens_per_minute) parts.push(`${key.tokens_per_minute} tok/min`);
  if (key.concurrent_requests) parts.push(`${key.concurrent_requests} at once`);
  return parts.join(', ') || '—';
}

export function KeysSection({ keys, onChange }: { keys: KeyRow[]; onChange: () => void }) {
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState('');

  const create = async (values: FormValues) => {
    const out = await call<{ key: KeyRow; secret: string }>('POST', 'keys', body(values, true));
    setCreated({ id: out.key.id, secret: out.secret });
    onChange();
  };
  const edit = (id: string) => async (values: FormValues) => {
    await call('PATCH', `keys/${encodeURIComponent(id)}`, body(values, false));
    setEditing(null);
    onChange();
  };
  const revoke = async (id: string) => {
    setError('');
    try {
      await call('POST', `keys/${encodeURIComponent(id)}/revoke`);
      setConfirming(null);
      onChange();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section id="keys" aria-labelledby="keys-title">
      <h2 id="keys-title">Keys</h2>
      {created ? (
        <div class="secret" role="status">
          <p>
            New key <code>{created.id}</code>. Copy the secret now: it is not shown again.
          </p>
          <label for="new-secret">Secret</label>
          <input
            id="new-secret"
            readOnly
            value={created.secret}
            onFocus={(e) => (e.target as HTMLInputElement).select()}
          />
          <div class="actions">
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created.secret)}>
              Copy
            </button>
            <button type="button" class="secondary" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Name / user</th>
              <th scope="col">Tier</th>
              <th scope="col">Models</th>
              <th scope="col">Limits</th>
              <th scope="col">Spent / budget</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.length === 0 ? (
              <tr>
                <td colSpan={8} class="empty">
                  No keys yet. While there are none, a gateway on a loopback address is open to local callers.
                </td>
              </tr>
            ) : null}
            {keys.map((key) => (
              <Fragment key={key.id}>
                <tr data-key-id={key.id} class={key.status}>
                  <td>
                    <code>{key.prefix}…</code>
                    <br />
                    <small>{key.id}</small>
                  </td>
                  <td>
                    {key.name ?? '—'}
                    <br />
                    <small>{key.user ?? ''}</small>
                  </td>
                  <td>{key.service_tier ?? 'default'}</td>
                  <td>{key.models ? key.models.join(', ') : 'all'}</td>
                  <td>{limitsText(key)}</td>
                  <td>
                    {usd(key.spent_this_month_usd ?? 0)} /{' '}
                    {key.budget_usd == null ? 'no budget' : usd(key.budget_usd)}
                    {key.budget_usd ? (
                      <meter
                        min={0}
                        max={key.budget_usd}
                        high={key.budget_usd * 0.8}
                        value={key.spent_this_month_usd ?? 0}
                        aria-label={`spend of ${key.name ?? key.id} against its budget`}
                      />
                    ) : null}
                  </td>
                  <td>
                    <span class={`badge ${key.status}`}>{key.status}</span>
                    <br />
                    <small>
                      {key.revoked_at ? `revoked ${day(key.revoked_at)}` : `created ${day(key.created_at)}`}
                    </small>
                  </td>
                  <td class="row-actions">
                    {key.status === 'revoked' ? null : (
                      <>
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Edit ${key.name ?? key.id}`}
                          onClick={() => setEditing(editing === key.id ? null : key.id)}
                        >
                          Edit
                        </button>
                        {confirming === key.id ? (
                          <>
                            <button type="button" class="danger" onClick={() => void revoke(key.id)}>
                              Confirm revoke
                            </button>
                            <button type="button" class="secondary" onClick={() => setConfirming(null)}>
                              Keep
                            </button>
                          </>
                        ) : (
                          <button
                            type="button"
                            class="danger"
                            aria-label={`Revoke ${key.name ?? key.id}`}
                            onClick={() => setConfirming(key.id)}
                          >
                            Revoke
                          </button>
                        )}
                      </>
                    )}
                  </td>
                </tr>
                {editing === key.id ? (
                  <tr class="edit-row">
                    <td colSpan={8}>
                      <h3>Edit {key.name ?? key.id}</h3>
                      <KeyForm
                        idPrefix={`edit-${key.id}`}
                        initial={valuesOf(key)}
                        withExpiry={false}
                        submitLabel="Save changes"
                        onSubmit={edit(key.id)}
                        onCancel={() => setEditing(null)}
                      />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      <details class="create">
        <summary>Create a key</summary>
        <KeyForm idPrefix="create" initial={EMPTY} withExpiry submitLabel="Create key" onSubmit={create} />
      </details>
    </section>
  );
}
