export default function CapabilitiesPage() {
  return <h1>CapabilitiesPage</h1>;
}
