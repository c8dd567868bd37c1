export default function EntryPage() {
  return <h1>EntryPage</h1>;
}
