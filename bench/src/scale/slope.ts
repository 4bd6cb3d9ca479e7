/**
 * Slopes of a quantity over a size (bytes of server memory over the number
 * of connections): what one more connection costs, free of the fixed cost
 * every server has (code, pools) that a plain "per connection" average
 * would spread over the connections.
 */

/** One measurement: the quantity `y` at size `x`. */
export interface XY {
  x: number
  y: number
}

/** The slope between two measurements. */
export function slope(a: XY, b: XY): number {
  return (b.y - a.y) / (b.x - a.x)
}

/** The least-squares slope through every measurement (all sizes, all repetitions); NaN with fewer than two sizes. */
export function leastSquaresSlope(points: readonly XY[]): number {
  const n = points.length
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n
  let covariance = 0
  let variance = 0
  for (const p of points) {
    covariance += (p.x - meanX) * (p.y - meanY)
    variance += (p.x - meanX) ** 2
  }
  return variance === 0 ? NaN : covariance / variance
}
