namespace Dso.Bench;

/// <summary>Nearest-rank percentiles of a sample, in the sample's unit.</summary>
public static class Percentiles
{
    public static double Of(IReadOnlyList<double> sample, double percentile)
    {
        var sorted = sample.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>
    /// A distribution-free 95 % confidence interval of the median: the order statistics k and n+1-k (1-based),
    /// with k the largest rank such that a Binomial(n, ½) falls below it with probability ≤ 2.5 %.
    /// </summary>
    public static (double Low, double High) MedianInterval(IReadOnlyList<double> sample)
    {
        var sorted = sample.Order().ToArray();
        var n = sorted.Length;
        var k = 0;
        var below = 0.0;
        var term = Math.Pow(0.5, n);
        for (var i = 0; i < n; i++)
        {
            if (below + term > 0.025)
            {
                break;
            }

            below += term;
            k = i + 1;
            term = term * (n - i) / (i + 1);
        }

        return k == 0 ? (sorted[0], sorted[^1]) : (sorted[k - 1], sorted[n - k]);
    }

    /// <summary>Least-squares slope of y over x.</summary>
    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        var meanX = points.Average(p => p.X);
        var meanY = points.Average(p => p.Y);
        var denominator = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        return denominator == 0 ? 0 : points.Sum(p => (p.X - meanX) * (p.Y - meanY)) / denominator;
    }
}
