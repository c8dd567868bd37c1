// Settings: runtime settings, users, roles (with a permission picker), and the user's own account.
import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQueryClient, type UseMutationResult } from "@tanstack/react-query";
import { Navigate, useNavigate, useParams } from "react-router";
import { errorMessage, problemsOf, request, send } from "../api/client";
import { usePermissions, useRoles, useSettings, useUsers } from "../api/hooks";
import type { Role, Setting, User } from "../api/types";
import { ME_KEY, useAuth } from "../auth/AuthContext";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { Spinner } from "../components/Spinner";
import { useToast } from "../components/Toast";
import { Badge, ErrorAlert, Field, FormError, Pagination, Section, SubmitButton, Tabs, formatTime, relativeTime } from "../components/ui";
import { usePageTitle } from "../lib/hooks";

/** Field errors of a failed call (`details`), by field name. */
function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problemsOf(err)) if (p.field && !out[p.field]) out[p.field] = p.message;
  return out;
}

/** A form's onSubmit that runs `action` instead of the browser's submission. */
function submitWith(action: () => void) {
  return (e: FormEvent) => {
    e.preventDefault();
    action();
  };
}

/** The foot of a dialog form: the call's error, then Cancel and the submit button. */
function DialogFormFooter({ save, label, onCancel }: { save: { isPending: boolean; error: unknown }; label: string; onCancel: () => void }) {
  return (
    <>
      <FormError error={save.error} />
      <div className="row end">
        <button type="button" className="btn" onClick={onCancel} disabled={save.isPending}>
          Cancel
        </button>
        <SubmitButton pending={save.isPending}>{label}</SubmitButton>
      </div>
    </>
  );
}

/** The confirmation of a delete mutation; closing it forgets the mutation's error. */
function ConfirmDelete<T>({
  target,
  title,
  message,
  del,
  onClose,
}: {
  target: T;
  title: string;
  message: ReactNode;
  del: UseMutationResult<unknown, Error, T>;
  onClose: () => void;
}) {
  return (
    <ConfirmDialog
      title={title}
      message={message}
      confirmLabel={title}
      busy={del.isPending}
      error={del.isError ? errorMessage(del.error) : null}
      onConfirm={() => del.mutate(target)}
      onClose={() => {
        del.reset();
        onClose();
      }}
    />
  );
}

const PASSWORD_RULES = "At least 10 characters with upper- and lower-case letters, a digit and a symbol.";

// ---- General -----------------------------------------------------------------------------

function settingInput(s: Setting, value: string, onChange: (v: string) => void, disabled: boolean) {
  if (s.type === "boolean") {
    return (
      <select value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled}>
        <option value="true">Yes</option>
        <option value="false">No</option>
      </select>
    );
  }
  if (s.type === "enum") {
    return (
      <select value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled}>
        {(s.allowed ?? []).map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
    );
  }
  if (s.type === "integer") {
    return (
      <input type="number" value={value} min={s.min} max={s.max} step={1} onChange={(e) => onChange(e.target.value)} disabled={disabled} />
    );
  }
  return (
    <input value={value} minLength={s.min_length} maxLength={s.max_length} onChange={(e) => onChange(e.target.value)} disabled={disabled} />
  );
}

function label(key: string): string {
  const last = key.split(".").pop() ?? key;
  const words = last.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function GeneralTab() {
  const { can } = useAuth();
  const settings = useSettings(can("settings:read"));
  const writable = can("settings:write");
  const qc = useQueryClient();
  const toast = useToast();
  // Only the edited keys are kept here: a background refresh never overwrites what is typed.
  const [draft, setDraft] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => send("PUT", "/settings", body),
    onSuccess: async () => {
      toast.success("Settings saved");
      await qc.invalidateQueries({ queryKey: ["settings"] });
      setDraft({});
    },
  });
  if (!can("settings:read")) return <p className="muted">You need the settings:read permission to see the settings.</p>;
  if (settings.isPending) return <Spinner label="Loading settings" />;
  if (settings.isError) return <ErrorAlert error={settings.error} what="Could not load settings" onRetry={() => void settings.refetch()} />;
  const errs = fieldErrors(save.error);
  const current = (s: Setting) => draft[s.key] ?? String(s.value ?? "");
  const changed = settings.data.filter((s) => draft[s.key] !== undefined && draft[s.key] !== String(s.value ?? ""));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    for (const s of changed) {
      const v = draft[s.key]!;
      body[s.key] = s.type === "integer" ? (v === "" ? v : Number(v)) : s.type === "boolean" ? v === "true" : v;
    }
    save.mutate(body);
  };
  const categories = [...new Set(settings.data.map((s) => s.category))];
  return (
    <form className="stack" onSubmit={submit} noValidate>
      {categories.map((c) => (
        <fieldset key={c}>
          <legend>{c.charAt(0).toUpperCase() + c.slice(1)}</legend>
          <div className="grid-2">
            {settings.data
              .filter((s) => s.category === c)
              .map((s) => (
                <Field key={s.key} label={label(s.key) + (s.unit ? ` (${s.unit})` : "")} hint={s.description} error={errs[s.key]}>
                  {settingInput(s, current(s), (v) => setDraft((d) => ({ ...d, [s.key]: v })), !writable)}
                </Field>
              ))}
          </div>
        </fieldset>
      ))}
      <FormError error={save.error} />
      {writable ? (
        <div className="row end">
          <button type="button" className="btn" disabled={changed.length === 0 || save.isPending} onClick={() => setDraft({})}>
            Discard changes
          </button>
          <SubmitButton pending={save.isPending} disabled={changed.length === 0}>
            Save settings
          </SubmitButton>
        </div>
      ) : (
        <p className="muted">Read only: you need the settings:write permission to change settings.</p>
      )}
    </form>
  );
}

// ---- Users -------------------------------------------------------------------------------

function UserDialog({ user, roles, onClose }: { user: User | null; roles: Role[]; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [v, setV] = useState({
    username: user?.username ?? "",
    display_name: user?.display_name ?? "",
    email: user?.email ?? "",
    password: "",
    role_id: user?.role_id ?? roles.find((r) => r.name === "viewer")?.id ?? roles[0]?.id ?? "",
    is_active: user?.is_active ?? true,
  });
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {
        display_name: v.display_name.trim(),
        role_id: v.role_id,
        is_active: v.is_active,
      };
      if (v.email.trim()) body.email = v.email.trim();
      if (user) return send<User>("PUT", `/users/${encodeURIComponent(user.id)}`, body);
      return send<User>("POST", "/users", { ...body, username: v.username.trim(), password: v.password });
    },
    onSuccess: (u) => {
      toast.success(user ? `Saved ${u.username}` : `Created ${u.username}`);
      void qc.invalidateQueries({ queryKey: ["users"] });
      void qc.invalidateQueries({ queryKey: ME_KEY });
      onClose();
    },
  });
  const errs = fieldErrors(save.error);
  return (
    <Dialog title={user ? `Edit user ${user.username}` : "Add user"} onClose={onClose} busy={save.isPending}>
      <form className="stack" noValidate onSubmit={submitWith(() => save.mutate())}>
        {user ? null : (
          <Field label="Username" error={errs.username}>
            <input value={v.username} onChange={(e) => setV({ ...v, username: e.target.value })} required autoComplete="off" />
          </Field>
        )}
        <Field label="Display name" error={errs.display_name}>
          <input value={v.display_name} onChange={(e) => setV({ ...v, display_name: e.target.value })} />
        </Field>
        <Field label="Email" error={errs.email}>
          <input type="email" value={v.email} onChange={(e) => setV({ ...v, email: e.target.value })} />
        </Field>
        {user ? null : (
          <Field label="Password" error={errs.password} hint={PASSWORD_RULES}>
            <input type="password" value={v.password} onChange={(e) => setV({ ...v, password: e.target.value })} required autoComplete="new-password" />
          </Field>
        )}
        <Field label="Role" error={errs.role_id}>
          <select value={v.role_id} onChange={(e) => setV({ ...v, role_id: e.target.value })}>
            {roles.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </Field>
        <label className="row">
          <input type="checkbox" checked={v.is_active} onChange={(e) => setV({ ...v, is_active: e.target.checked })} />
          <span>Active (may sign in)</span>
        </label>
        <DialogFormFooter save={save} label={user ? "Save user" : "Create user"} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function UsersTab() {
  const { can, user: me } = useAuth();
  const [offset, setOffset] = useState(0);
  const users = useUsers(50, offset);
  const roles = useRoles(can("roles:read") || can("users:write"));
  const qc = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const del = useMutation({
    mutationFn: (u: User) => send("DELETE", `/users/${encodeURIComponent(u.id)}`),
    onSuccess: (_r, u) => {
      toast.success(`Deleted ${u.username}`);
      setDeleting(null);
      return qc.invalidateQueries({ queryKey: ["users"] });
    },
  });
  const setActive = useMutation({
    mutationFn: (a: { u: User; active: boolean }) =>
      send<User>("PUT", `/users/${encodeURIComponent(a.u.id)}`, { is_active: a.active }),
    onSuccess: (u) => {
      toast.success(u.is_active ? `Enabled ${u.username}` : `Disabled ${u.username}`);
      return qc.invalidateQueries({ queryKey: ["users"] });
    },
    onError: (e) => toast.error(errorMessage(e)),
  });
  const unlock = useMutation({
    mutationFn: (u: User) => send<User>("POST", `/users/${encodeURIComponent(u.id)}/unlock`),
    onSuccess: (u) => {
      toast.success(`Unlocked ${u.username}`);
      return qc.invalidateQueries({ queryKey: ["users"] });
    },
    onError: (e) => toast.error(errorMessage(e)),
  });
  if (!can("users:read")) return <p className="muted">You need the users:read permission to see the users.</p>;
  if (users.isPending) return <Spinner label="Loading users" />;
  if (users.isError) return <ErrorAlert error={users.error} what="Could not load users" onRetry={() => void users.refetch()} />;
  const roleList = roles.data?.items ?? [];
  return (
    <div className="stack">
      <div className="row between">
        <h2>Users</h2>
        {can("users:write") ? (
          <button type="button" className="btn btn-primary" onClick={() => setEditing("new")} disabled={!roles.data}>
            Add user
          </button>
        ) : null}
      </div>
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Users</caption>
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Last login</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data.items.map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>{u.display_name || "—"}</td>
                <td>{u.email || "—"}</td>
                <td>{u.role?.name ?? u.role_id}</td>
                <td>
                  {u.is_locked ? <Badge tone="danger">Locked</Badge> : u.is_active ? <Badge tone="ok">Active</Badge> : <Badge>Disabled</Badge>}
                </td>
                <td title={u.last_login ?? undefined}>{relativeTime(u.last_login)}</td>
                <td>
                  <div className="row">
                    {can("users:write") ? (
                      <button type="button" className="btn" onClick={() => setEditing(u)} aria-label={`Edit ${u.username}`} disabled={!roles.data}>
                        Edit
                      </button>
                    ) : null}
                    {can("users:write") && u.id !== me?.id ? (
                      <button
                        type="button"
                        className="btn"
                        onClick={() => setActive.mutate({ u, active: !u.is_active })}
                        aria-label={`${u.is_active ? "Disable" : "Enable"} ${u.username}`}
                        disabled={setActive.isPending}
                      >
                        {u.is_active ? "Disable" : "Enable"}
                      </button>
                    ) : null}
                    {can("users:write") && u.is_locked ? (
                      <button type="button" className="btn" onClick={() => unlock.mutate(u)} aria-label={`Unlock ${u.username}`} disabled={unlock.isPending}>
                        Unlock
                      </button>
                    ) : null}
                    {can("users:delete") && u.id !== me?.id ? (
                      <button type="button" className="btn btn-danger" onClick={() => setDeleting(u)} aria-label={`Delete ${u.username}`}>
                        Delete
                      </button>
                    ) : null}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pagination total={users.data.total} limit={50} offset={offset} onChange={setOffset} label="User pages" />
      {roles.isError ? <ErrorAlert error={roles.error} what="Could not load roles" /> : null}
      {editing ? <UserDialog user={editing === "new" ? null : editing} roles={roleList} onClose={() => setEditing(null)} /> : null}
      {deleting ? (
        <ConfirmDelete
          target={deleting}
          title="Delete user"
          message={<p>Delete the account {deleting.username}? Their sessions end at once.</p>}
          del={del}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </div>
  );
}

// ---- Roles -------------------------------------------------------------------------------

function PermissionPicker({
  value,
  onChange,
  disabled = false,
}: {
  value: string[];
  onChange: (v: string[]) => void;
  disabled?: boolean;
}) {
  const perms = usePermissions();
  if (perms.isPending) return <Spinner inline label="Loading permissions" />;
  if (perms.isError) return <ErrorAlert error={perms.error} what="Could not load permissions" onRetry={() => void perms.refetch()} />;
  const toggle = (p: string) => onChange(value.includes(p) ? value.filter((x) => x !== p) : [...value, p]);
  const all = perms.data.map((p) => p.name);
  return (
    <fieldset>
      <legend>Permissions</legend>
      <div className="row small">
        <button type="button" className="btn-link" onClick={() => onChange(all)} disabled={disabled}>
          Select all
        </button>
        <button type="button" className="btn-link" onClick={() => onChange([])} disabled={disabled}>
          Clear
        </button>
      </div>
      <div className="perm-grid">
        {perms.data.map((p) => (
          <label key={p.name}>
            <input type="checkbox" checked={value.includes(p.name)} onChange={() => toggle(p.name)} disabled={disabled} />
            <span>
              <code>{p.name}</code>
              <br />
              <span className="muted small">{p.description}</span>
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function RoleDialog({ role, onClose }: { role: Role | null; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [v, setV] = useState({ name: role?.name ?? "", description: role?.description ?? "", permissions: role?.permissions ?? [] });
  const save = useMutation({
    mutationFn: () =>
      role
        ? send<Role>("PUT", `/roles/${encodeURIComponent(role.id)}`, v)
        : send<Role>("POST", "/roles", v),
    onSuccess: (r) => {
      toast.success(role ? `Saved role ${r.name}` : `Created role ${r.name}`);
      void qc.invalidateQueries({ queryKey: ["roles"] });
      void qc.invalidateQueries({ queryKey: ME_KEY });
      onClose();
    },
  });
  const errs = fieldErrors(save.error);
  return (
    <Dialog title={role ? `Edit role ${role.name}` : "Add role"} onClose={onClose} busy={save.isPending} wide>
      <form className="stack" noValidate onSubmit={submitWith(() => save.mutate())}>
        <Field label="Role name" error={errs.name}>
          <input value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} required />
        </Field>
        <Field label="Description" error={errs.description}>
          <input value={v.description} onChange={(e) => setV({ ...v, description: e.target.value })} />
        </Field>
        <PermissionPicker value={v.permissions} onChange={(p) => setV({ ...v, permissions: p })} />
        {errs.permissions ? <p className="field-error">{errs.permissions}</p> : null}
        <DialogFormFooter save={save} label={role ? "Save role" : "Create role"} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function RolesTab() {
  const { can } = useAuth();
  const roles = useRoles(can("roles:read"));
  const qc = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState<Role | "new" | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const del = useMutation({
    mutationFn: (r: Role) => send("DELETE", `/roles/${encodeURIComponent(r.id)}`),
    onSuccess: (_x, r) => {
      toast.success(`Deleted role ${r.name}`);
      setDeleting(null);
      return qc.invalidateQueries({ queryKey: ["roles"] });
    },
  });
  if (!can("roles:read")) return <p className="muted">You need the roles:read permission to see the roles.</p>;
  if (roles.isPending) return <Spinner label="Loading roles" />;
  if (roles.isError) return <ErrorAlert error={roles.error} what="Could not load roles" onRetry={() => void roles.refetch()} />;
  const write = can("roles:write");
  return (
    <div className="stack">
      <div className="row between">
        <h2>Roles</h2>
        {write ? (
          <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
            Add role
          </button>
        ) : null}
      </div>
      <ul className="cap-list" aria-label="Roles">
        {roles.data.items.map((r) => (
          <li key={r.id}>
            <div className="row between">
              <h3 className="h4">
                {r.name} {r.is_system ? <Badge>system</Badge> : null}
              </h3>
              {write && !r.is_system ? (
                <div className="row">
                  <button type="button" className="btn" onClick={() => setEditing(r)} aria-label={`Edit role ${r.name}`}>
                    Edit
                  </button>
                  <button type="button" className="btn btn-danger" onClick={() => setDeleting(r)} aria-label={`Delete role ${r.name}`}>
                    Delete
                  </button>
                </div>
              ) : null}
            </div>
            {r.description ? <p className="muted">{r.description}</p> : null}
            <p className="row small" aria-label={`Permissions of ${r.name}`}>
              {r.permissions.length ? r.permissions.map((p) => <Badge key={p}>{p}</Badge>) : <span className="muted">no permissions</span>}
            </p>
          </li>
        ))}
      </ul>
      {editing ? <RoleDialog role={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
      {deleting ? (
        <ConfirmDelete
          target={deleting}
          title="Delete role"
          message={<p>Delete the role {deleting.name}?</p>}
          del={del}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </div>
  );
}

// ---- My account --------------------------------------------------------------------------

function AccountTab() {
  const { user, login, sessionEnded } = useAuth();
  const qc = useQueryClient();
  const toast = useToast();
  const [profile, setProfile] = useState({ display_name: user?.display_name ?? "", email: user?.email ?? "" });
  const [pw, setPw] = useState({ current: "", next: "", confirm: "" });
  const [mismatch, setMismatch] = useState(false);
  const saveProfile = useMutation({
    mutationFn: () => {
      const body: Record<string, string> = { display_name: profile.display_name.trim() };
      if (profile.email.trim()) body.email = profile.email.trim();
      return send<User>("PUT", "/auth/me", body);
    },
    onSuccess: (u) => {
      qc.setQueryData(ME_KEY, u);
      toast.success("Profile saved");
    },
  });
  const changePw = useMutation({
    // A wrong current password is a 401 that does not end the session: no login redirect.
    mutationFn: () =>
      request("/auth/password", {
        method: "PUT",
        body: { current_password: pw.current, new_password: pw.next },
        noAuthRedirect: true,
      }),
    // The server ends every session of the user; sign in again with the new password at once,
    // so only the other sessions end.
    onSuccess: async () => {
      try {
        await login(user!.username, pw.next);
        setPw({ current: "", next: "", confirm: "" });
        toast.success("Password changed. Your other sessions were signed out.");
      } catch {
        sessionEnded("Password changed. Sign in with your new password.");
      }
    },
  });
  if (!user) return null;
  const perrs = fieldErrors(saveProfile.error);
  const pwerrs = fieldErrors(changePw.error);
  return (
    <div className="grid-2">
      <Section title="Profile" className="card stack">
        <dl className="kv">
          <div>
            <dt>Username</dt>
            <dd>{user.username}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>{user.role?.name}</dd>
          </div>
          <div>
            <dt>Last login</dt>
            <dd>{formatTime(user.last_login)}</dd>
          </div>
        </dl>
        <form className="stack" noValidate onSubmit={submitWith(() => saveProfile.mutate())}>
          <Field label="Display name" error={perrs.display_name}>
            <input value={profile.display_name} onChange={(e) => setProfile({ ...profile, display_name: e.target.value })} />
          </Field>
          <Field label="Email" error={perrs.email}>
            <input type="email" value={profile.email} onChange={(e) => setProfile({ ...profile, email: e.target.value })} />
          </Field>
          <FormError error={saveProfile.error} />
          <div className="row end">
            <SubmitButton pending={saveProfile.isPending}>Save profile</SubmitButton>
          </div>
        </form>
      </Section>
      <Section title="Change password">
        <form
          className="stack"
          noValidate
          onSubmit={submitWith(() => {
            setMismatch(pw.next !== pw.confirm);
            if (pw.next === pw.confirm) changePw.mutate();
          })}
        >
          <Field label="Current password" error={pwerrs.current_password}>
            <input type="password" autoComplete="current-password" value={pw.current} onChange={(e) => setPw({ ...pw, current: e.target.value })} required />
          </Field>
          <Field label="New password" error={pwerrs.new_password} hint={PASSWORD_RULES}>
            <input type="password" autoComplete="new-password" value={pw.next} onChange={(e) => setPw({ ...pw, next: e.target.value })} required />
          </Field>
          <Field label="Confirm new password" error={mismatch ? "The passwords do not match." : undefined}>
            <input type="password" autoComplete="new-password" value={pw.confirm} onChange={(e) => setPw({ ...pw, confirm: e.target.value })} required />
          </Field>
          <FormError error={changePw.error} />
          <p className="muted small">Changing the password signs you out everywhere, this session included.</p>
          <div className="row end">
            <SubmitButton pending={changePw.isPending} busyLabel="Changing…">
              Change password
            </SubmitButton>
          </div>
        </form>
      </Section>
    </div>
  );
}

const ALL_TABS = [
  { id: "general", label: "General", perm: "settings:read" },
  { id: "users", label: "Users", perm: "users:read" },
  { id: "roles", label: "Roles", perm: "roles:read" },
  { id: "account", label: "My account", perm: null },
];

export default function SettingsPage() {
  usePageTitle("Settings");
  const { tab: param } = useParams();
  const { can } = useAuth();
  const navigate = useNavigate();
  const tabs = ALL_TABS.filter((t) => t.perm === null || can(t.perm));
  const active = tabs.find((t) => t.id === param)?.id;
  if (!active) return <Navigate to={`/settings/${tabs[0]!.id}`} replace />;
  return (
    <div className="stack">
      <h1>Settings</h1>
      <Tabs tabs={tabs} active={active} onChange={(t) => navigate(`/settings/${t}`, { replace: true })} label="Settings sections">
        {active === "general" ? <GeneralTab /> : null}
        {active === "users" ? <UsersTab /> : null}
        {active === "roles" ? <RolesTab /> : null}
        {active === "account" ? <AccountTab /> : null}
      </Tabs>
    </div>
  );
}
