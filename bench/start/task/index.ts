/** The benchmark's task: its first line reports when task code began. */
export const first = {
  id: "first-line",
  run: async () => {
    const at = Date.now()
    console.log(`first-line ${at}`)
    return { at }
  },
}
