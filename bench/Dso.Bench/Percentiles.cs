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

    /// <summary>Least-squares slope of y over x.</summary>
    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        var meanX = points.Average(p => p.X);
        var meanY = points.Average(p => p.Y);
        var denominator = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        return denominator == 0 ? 0 : points.Sum(p => (p.X - meanX) * (p.Y - meanY)) / denominator;
    }
}
