import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { AppShell, makeQueryClient } from "./App";
import { applyTheme, savedTheme } from "./components/Theme";
import "./styles.css";

applyTheme(savedTheme());

const client = makeQueryClient();
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <AppShell client={client} />
    </BrowserRouter>
  </StrictMode>,
);
