// What every page does: install the service worker, show who is signed in, handle 401s.
import { api } from "./api.js";
import { $, authMode } from "./ui.js";

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

/** The signed-in user, or null (auth=none: the local user, always "signed in"). */
export async function currentUser() {
  if (authMode() === "none") return { name: "local", is_admin: true, local: true };
  try {
    return await api("/api/v1/auth/me");
  } catch {
    return null;
  }
}

/** Send a visitor who must sign in to the account page, and back here afterwards. */
export function requireSignIn() {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/account?next=${next}`);
}

export async function showAccountLink() {
  const link = $("[data-account-link]");
  if (!link || authMode() === "none") return null;
  const user = await currentUser();
  link.textContent = user ? user.name : "Sign in";
  return user;
}

showAccountLink();
