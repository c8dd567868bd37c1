export default function CapabilityPage() {
  return <h1>CapabilityPage</h1>;
}
