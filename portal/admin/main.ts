// The organisation admin's page, served by the hub at /admin/{org}: sign in as an admin, then pick
// the co-browse and screen-share providers (Parley's built-in ones, none, or an external provider
// described by URL templates), and how long a chat whose customer has gone stays open. It talks to
// POST /api/v1/login and GET/PUT /api/v1/orgs/{org}/settings/visual and .../settings/auto-close. Plain TypeScript, no framework; user text is set with
// textContent and input values only, never as HTML.
import type * as wire from '../../web/wire.gen';

const strings = {
  en: {
    title: 'Visual engagement providers',
    signIn: 'Sign in as an admin of {org}',
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    cobrowse: 'Co-browse',
    screenshare: 'Screen share',
    provider: 'Provider',
    none: 'None (not offered)',
    builtin: 'Parley built-in (no licence needed)',
    external: 'External provider',
    name: 'Name shown to agents and customers',
    sign_in_url: 'Sign-in page URL',
    verify_url: 'Credentials check URL (optional, GET with basic auth)',
    session_url: 'Session creation URL (optional, POST with basic auth, answers JSON)',
    session_id_pointer: 'JSON pointer to the session id, e.g. /session/id',
    pin_pointer: 'JSON pointer to the PIN, e.g. /session/pin',
    session_page_url: 'Session page URL (when the agent reads the PIN there)',
    join_url: 'Customer join URL, with {pin} and {session}',
    save: 'Save',
    saved: 'Saved. Agents get the new providers at once.',
    autoClose: 'Chats whose customer has left',
    autoCloseMinutes: 'Close after this many minutes with the customer gone and nobody writing (1 to 1440; empty for the hub’s default of {default})',
    autoCloseHint: 'Agents are warned {warning} before and can keep a chat open. Calls and co-browse in progress never close.',
    autoCloseSaved: 'Saved. Open chats follow the new time at once.',
    minutes: '{n} min',
    errors: {
      EUNAUTHORIZED: 'The username or password is not right, or the sign-in expired.',
      EFORBIDDEN: 'Only the organisation’s admins may change this.',
      EINVALID: 'Something is missing or not valid: every URL must start with http:// or https://, and the minutes go from 1 to 1440.',
      ETOOLARGE: 'A field is too long.',
      ERATELIMITED: 'Too many failed sign-ins for this account. Wait a minute, then try again.',
      other: 'That did not work. Try again.',
    } as Record<string, string>,
  },
  es: {
    title: 'Proveedores de asistencia visual',
    signIn: 'Inicia sesión como administrador de {org}',
    username: 'Usuario',
    password: 'Contraseña',
    submit: 'Iniciar sesión',
    cobrowse: 'Navegación conjunta',
    screenshare: 'Compartir pantalla',
    provider: 'Proveedor',
    none: 'Ninguno (no se ofrece)',
    builtin: 'Parley integrado (sin licencia)',
    external: 'Proveedor externo',
    name: 'Nombre que ven agentes y clientes',
    sign_in_url: 'URL de la página de inicio de sesión',
    verify_url: 'URL de comprobación de credenciales (opcional, GET con autenticación básica)',
    session_url: 'URL de creación de sesión (opcional, POST con autenticación básica, responde JSON)',
    session_id_pointer: 'Puntero JSON al id. de sesión, p. ej. /session/id',
    pin_pointer: 'Puntero JSON al PIN, p. ej. /session/pin',
    session_page_url: 'URL de la página de sesión (si el agente lee allí el PIN)',
    join_url: 'URL de acceso del cliente, con {pin} y {session}',
    save: 'Guardar',
    saved: 'Guardado. Los agentes reciben los nuevos proveedores al momento.',
    autoClose: 'Chats cuyo cliente se ha ido',
    autoCloseMinutes: 'Cerrar tras estos minutos con el cliente ausente y sin que nadie escriba (de 1 a 1440; vacío para el valor del hub, {default})',
    autoCloseHint: 'Se avisa a los agentes {warning} antes y pueden mantener el chat abierto. Las llamadas y la navegación conjunta en curso nunca se cierran.',
    autoCloseSaved: 'Guardado. Los chats abiertos siguen el nuevo tiempo al momento.',
    minutes: '{n} min',
    errors: {
      EUNAUTHORIZED: 'El usuario o la contraseña no son correctos, o la sesión caducó.',
      EFORBIDDEN: 'Solo los administradores de la organización pueden cambiar esto.',
      EINVALID: 'Falta algo o no es válido: cada URL debe empezar por http:// o https://, y los minutos van de 1 a 1440.',
      ETOOLARGE: 'Un campo es demasiado largo.',
      ERATELIMITED: 'Demasiados intentos fallidos para esta cuenta. Espera un minuto e inténtalo de nuevo.',
      other: 'No funcionó. Inténtalo de nuevo.',
    } as Record<string, string>,
  },
};
const lang = navigator.languages?.some((l) => l.startsWith('es')) && !navigator.languages[0]?.startsWith('en') ? 'es' : 'en';
const s = strings[lang];
document.documentElement.lang = lang;

const org = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const root = document.getElementById('admin')!;
let token = sessionStorage.getItem(`parley-admin:${org}`) ?? '';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

function errorText(code: string): string {
  return s.errors[code] ?? s.errors.other;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data as wire.Error).code ?? 'EINTERNAL');
  return data as T;
}

function showSignIn(problem = ''): void {
  const user = el('input', { 'data-testid': 'admin-username', autocomplete: 'username', required: '' });
  const pass = el('input', { 'data-testid': 'admin-password', type: 'password', autocomplete: 'current-password', required: '' });
  const msg = el('p', { class: 'err', role: 'alert' }, problem);
  const form = el('form', { 'data-testid': 'admin-signin' },
    el('h2', {}, s.signIn.replace('{org}', org)),
    el('label', {}, s.username, user),
    el('label', {}, s.password, pass),
    msg,
    el('button', { type: 'submit' }, s.submit));
  form.onsubmit = async (e) => {
    e.preventDefault();
    try {
      const r = await api<wire.LoginResponse>('POST', '/api/v1/login', { org, username: user.value, password: pass.value } satisfies wire.LoginRequest);
      token = r.token;
      sessionStorage.setItem(`parley-admin:${org}`, token);
      await showSettings();
    } catch (err) {
      msg.textContent = errorText((err as Error).message);
    }
  };
  root.replaceChildren(el('h1', {}, s.title), form);
}

const fields = ['name', 'sign_in_url', 'verify_url', 'session_url', 'session_id_pointer', 'pin_pointer', 'session_page_url', 'join_url'] as const;

function section(kind: 'cobrowse' | 'screenshare', pc: wire.ProviderConfig): { node: HTMLElement; read: () => wire.ProviderConfig } {
  const builtin = kind === 'cobrowse' ? 'builtin-cobrowse' : 'builtin-screenshare';
  const select = el('select', { 'data-testid': `admin-${kind}-provider` },
    el('option', { value: '' }, s.none), el('option', { value: builtin }, s.builtin), el('option', { value: 'external' }, s.external));
  select.value = pc.provider ?? '';
  const inputs = {} as Record<(typeof fields)[number], HTMLInputElement>;
  const ext = el('div', { class: 'ext' });
  for (const f of fields) {
    inputs[f] = el('input', { 'data-testid': `admin-${kind}-${f}` });
    inputs[f].value = (pc.external as unknown as Record<string, string> | undefined)?.[f] ?? '';
    ext.append(el('label', {}, s[f], inputs[f]));
  }
  const sync = () => (ext.hidden = select.value !== 'external');
  select.onchange = sync;
  sync();
  return {
    node: el('fieldset', {}, el('legend', {}, s[kind]), el('label', {}, s.provider, select), ext),
    read: () => {
      if (select.value !== 'external') return { provider: select.value as wire.ProviderKind };
      const e = {} as Record<string, string>;
      for (const f of fields) if (inputs[f].value.trim()) e[f] = inputs[f].value.trim();
      return { provider: 'external', external: e as unknown as wire.ExternalProvider };
    },
  };
}

async function showSettings(): Promise<void> {
  let v: wire.VisualSettings;
  try {
    v = await api<wire.VisualSettings>('GET', `/api/v1/orgs/${encodeURIComponent(org)}/settings/visual`);
  } catch (err) {
    return showSignIn(errorText((err as Error).message));
  }
  const co = section('cobrowse', v.cobrowse);
  const sc = section('screenshare', v.screenshare);
  const msg = el('p', { role: 'status', 'data-testid': 'admin-status' });
  const form = el('form', { 'data-testid': 'admin-visual' }, co.node, sc.node, msg, el('button', { type: 'submit', 'data-testid': 'admin-save' }, s.save));
  form.onsubmit = async (e) => {
    e.preventDefault();
    msg.className = '';
    try {
      await api('PUT', `/api/v1/orgs/${encodeURIComponent(org)}/settings/visual`, { cobrowse: co.read(), screenshare: sc.read() } satisfies wire.VisualSettings);
      msg.textContent = s.saved;
    } catch (err) {
      msg.className = 'err';
      msg.textContent = errorText((err as Error).message);
    }
  };
  root.replaceChildren(el('h1', {}, s.title), form, await autoCloseForm());
}

/** minutes formats seconds as whole minutes ("10 min"), or seconds when under one. */
function minutes(sec: number): string {
  return sec >= 60 ? s.minutes.replace('{n}', String(Math.round(sec / 60))) : `${sec} s`;
}

/** autoCloseForm is the organisation's auto-close time (empty: the hub's default). */
async function autoCloseForm(): Promise<HTMLElement> {
  const path = `/api/v1/orgs/${encodeURIComponent(org)}/settings/auto-close`;
  const msg = el('p', { role: 'status', 'data-testid': 'admin-autoclose-status' });
  let v: wire.AutoCloseSettings = { after_s: 0 };
  try {
    v = await api<wire.AutoCloseSettings>('GET', path);
  } catch (err) {
    msg.className = 'err';
    msg.textContent = errorText((err as Error).message);
  }
  const input = el('input', { 'data-testid': 'admin-autoclose-minutes', type: 'number', min: '1', max: '1440', step: '1', inputmode: 'numeric' });
  input.value = v.after_s ? String(Math.round(v.after_s / 60)) : '';
  const form = el('form', { 'data-testid': 'admin-autoclose' },
    el('h2', {}, s.autoClose),
    el('label', {}, s.autoCloseMinutes.replace('{default}', minutes(v.default_s ?? 600)), input),
    el('p', { class: 'hint' }, s.autoCloseHint.replace('{warning}', minutes(v.warning_s ?? 60))),
    msg,
    el('button', { type: 'submit', 'data-testid': 'admin-autoclose-save' }, s.save));
  form.onsubmit = async (e) => {
    e.preventDefault();
    msg.className = '';
    const n = input.value.trim() === '' ? 0 : Number(input.value);
    try {
      await api('PUT', path, { after_s: Number.isInteger(n) ? n * 60 : -1 } satisfies wire.AutoCloseSettings);
      msg.textContent = s.autoCloseSaved;
    } catch (err) {
      msg.className = 'err';
      msg.textContent = errorText((err as Error).message);
    }
  };
  return form;
}

const style = document.createElement('style');
style.textContent = `body{font:14px system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2433}
main{max-width:720px;margin:24px auto;padding:0 16px}form{background:#fff;border:1px solid #e3e6ec;border-radius:10px;padding:16px;display:flex;flex-direction:column;gap:10px}
label{display:flex;flex-direction:column;gap:3px;font-size:13px}input,select{font:inherit;padding:6px 8px;border:1px solid #cfd4dc;border-radius:6px}
fieldset{border:1px solid #e3e6ec;border-radius:8px;display:flex;flex-direction:column;gap:8px}.ext{display:flex;flex-direction:column;gap:8px}
main>form+form{margin-top:16px}h2{font-size:16px;margin:0}.hint{margin:0;color:#5b6474;font-size:13px}
button{align-self:flex-start;font:inherit;padding:7px 14px;border:0;border-radius:6px;background:#2563eb;color:#fff;cursor:pointer}.err{color:#b42318}[hidden]{display:none!important}`;
document.head.append(style);

if (token) void showSettings();
else showSignIn();
