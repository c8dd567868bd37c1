import { lazy, Suspense, type ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Route, Routes } from "react-router";
import { ApiError } from "./api/client";
import { AuthProvider, RequireAuth } from "./auth/AuthContext";
import { Layout } from "./components/Layout";
import { Spinner } from "./components/Spinner";
import { ToastProvider } from "./components/Toast";
import { CatalogPage } from "./pages/CatalogPage";
import { LoginPage } from "./pages/LoginPage";
import { NotFoundPage } from "./pages/NotFoundPage";

// Pages other than the catalog load on demand (keeps the first download small).
const EntryPage = lazy(() => import("./pages/EntryPage"));
const CapabilitiesPage = lazy(() => import("./pages/CapabilitiesPage"));
const CapabilityPage = lazy(() => import("./pages/CapabilityPage"));
const SettingsPage = lazy(() => import("./pages/SettingsPage"));
const SystemPage = lazy(() => import("./pages/SystemPage"));

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Retry network trouble and 5xx once; never a 4xx (the answer will not change).
        retry: (count, err) => count < 1 && !(err instanceof ApiError && err.status >= 400 && err.status < 500),
        refetchOnWindowFocus: true,
        staleTime: 5_000,
      },
      mutations: { retry: false },
    },
  });
}

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Spinner label="Loading page" />}>{children}</Suspense>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<CatalogPage />} />
        <Route path="catalog/:id" element={<Lazy><EntryPage /></Lazy>} />
        <Route path="capabilities" element={<Lazy><CapabilitiesPage /></Lazy>} />
        <Route path="capabilities/:key" element={<Lazy><CapabilityPage /></Lazy>} />
        <Route path="settings" element={<Lazy><SettingsPage /></Lazy>} />
        <Route path="settings/:tab" element={<Lazy><SettingsPage /></Lazy>} />
        <Route path="system" element={<Lazy><SystemPage /></Lazy>} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

/** Everything below the router (the router itself differs between the browser and tests). */
export function AppShell({ client }: { client: QueryClient }) {
  return (
    <QueryClientProvider client={client}>
      <ToastProvider>
        <AuthProvider>
          <AppRoutes />
        </AuthProvider>
      </ToastProvider>
    </QueryClientProvider>
  );
}
