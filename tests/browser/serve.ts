import { startHttpServer, type TestHttpServer } from '../helpers/harness'

/**
 * A static HTTP server on 127.0.0.1 for browser tests: each route is a path
 * (`'/'`, `'/page.js'`...) and the body served there, with its content type
 * taken from the extension (`.js` is a JavaScript module, anything else is
 * HTML). Query strings are ignored. Closed after the test.
 */
export async function serveStatic(routes: Record<string, string>): Promise<TestHttpServer> {
  return startHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const body = routes[path]
    if (req.method !== 'GET' || body === undefined) {
      res.writeHead(path === '/favicon.ico' ? 204 : 404).end()
      return
    }
    const type = path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8'
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body)
  })
}

/** An HTML page that loads `src` as a module script. */
export const modulePage = (src: string, title = 'wirecall test'): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><script type="module" src="${src}"></script></body></html>`
