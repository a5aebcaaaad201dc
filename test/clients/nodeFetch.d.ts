// The two node-fetch releases that Lodestar's validator client has shipped with (package.json
// aliases); they carry no types of their own, and stacks.ts calls them only as a plain fetch.
declare module "node-fetch-2.6.7" {
  const fetch: (url: string, init?: {method?: string; headers?: Record<string, string>; body?: string}) => Promise<Response>;
  export default fetch;
}
declare module "node-fetch-2.7" {
  const fetch: (url: string, init?: {method?: string; headers?: Record<string, string>; body?: string}) => Promise<Response>;
  export default fetch;
}
