using Lantern.Explainers.Embedding;

namespace Lantern.Explainers.Tests.Embedding;

public sealed class TsneTests
{
    /// <summary>Two Gaussian clusters of <paramref name="perCluster"/> points in <paramref name="dimensions"/>-D, centres 10 apart.</summary>
    private static (List<double[]> Points, int[] Cluster) TwoClusters(int perCluster, int dimensions, int seed)
    {
        var random = new Random(seed);
        var points = new List<double[]>();
        var cluster = new int[2 * perCluster];
        for (var i = 0; i < 2 * perCluster; i++)
        {
            cluster[i] = i % 2;
            points.Add([.. Enumerable.Range(0, dimensions).Select(d => (d == 0 ? 10.0 * cluster[i] : 0) + Normal(random))]);
        }
        return (points, cluster);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static int Nearest(TsneResult result, int i) =>
        Enumerable.Range(0, result.X.Length).Where(j => j != i)
            .MinBy(j => Math.Pow(result.X[i] - result.X[j], 2) + Math.Pow(result.Y[i] - result.Y[j], 2));

    [Fact]
    public void Two_separate_clusters_stay_apart_in_the_plane_every_points_nearest_neighbour_is_of_its_own_cluster()
    {
        var (points, cluster) = TwoClusters(perCluster: 20, dimensions: 10, seed: 3);

        var result = Tsne.Embed(points, new TsneOptions(Perplexity: 10, Seed: 7));

        for (var i = 0; i < points.Count; i++) Assert.Equal(cluster[i], cluster[Nearest(result, i)]);
        // And the clusters' centres are far apart compared with their spread.
        double Centre(double[] v, int c) => Enumerable.Range(0, v.Length).Where(i => cluster[i] == c).Average(i => v[i]);
        var gap = Math.Sqrt(Math.Pow(Centre(result.X, 0) - Centre(result.X, 1), 2) + Math.Pow(Centre(result.Y, 0) - Centre(result.Y, 1), 2));
        var spread = Enumerable.Range(0, points.Count).Average(i =>
            Math.Sqrt(Math.Pow(result.X[i] - Centre(result.X, cluster[i]), 2) + Math.Pow(result.Y[i] - Centre(result.Y, cluster[i]), 2)));
        Assert.True(gap > 3 * spread, $"centres {gap:0.0} apart, points {spread:0.0} from their centre on average");
        Assert.True(result.KlDivergence is > 0 and < 2, $"KL divergence {result.KlDivergence}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_coordinates_and_another_seed_other_ones()
    {
        var (points, _) = TwoClusters(perCluster: 8, dimensions: 5, seed: 1);

        var first = Tsne.Embed(points, new TsneOptions(Perplexity: 5, Iterations: 300, Seed: 11));
        var again = Tsne.Embed(points, new TsneOptions(Perplexity: 5, Iterations: 300, Seed: 11));
        var other = Tsne.Embed(points, new TsneOptions(Perplexity: 5, Iterations: 300, Seed: 12));

        Assert.Equal(first.X, again.X);
        Assert.Equal(first.Y, again.Y);
        Assert.NotEqual(first.X, other.X);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(6)]
    [InlineData(double.NaN)]
    public void A_perplexity_below_1_or_not_below_the_number_of_points_is_refused(double perplexity)
    {
        var (points, _) = TwoClusters(perCluster: 3, dimensions: 2, seed: 1);
        Assert.Throws<ArgumentException>(() => Tsne.Embed(points, new TsneOptions(Perplexity: perplexity)));
    }

    [Fact]
    public void Pca_onto_the_plane_the_data_lies_in_keeps_every_distance()
    {
        // Points in a 2-D plane of 6-D space: two components hold all of them.
        var random = new Random(5);
        var u = new[] { 1.0, 2, 0, -1, 0.5, 3 };
        var v = new[] { 0.0, -1, 4, 1, 2, 0 };
        var data = Enumerable.Range(0, 12).Select(_ =>
        {
            var (a, b) = (random.NextDouble() * 10, random.NextDouble() * 10);
            return u.Select((x, k) => (float)(a * x + b * v[k] + 7)).ToArray();
        }).ToList();

        var projected = Pca.Project(data, components: 2);

        Assert.All(projected, p => Assert.Equal(2, p.Length));
        for (var i = 0; i < data.Count; i++)
        for (var j = i + 1; j < data.Count; j++)
        {
            var original = Math.Sqrt(data[i].Zip(data[j], (a, b) => Math.Pow(a - b, 2)).Sum());
            var kept = Math.Sqrt(projected[i].Zip(projected[j], (a, b) => Math.Pow(a - b, 2)).Sum());
            Assert.Equal(original, kept, original * 1e-4 + 1e-4);
        }
    }
}
