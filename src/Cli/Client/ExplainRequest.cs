using Lantern.Contracts.Api;

namespace Lantern.Cli.Client;

/// <summary>One explanation as the command line describes it: local files plus the API request to make of them.</summary>
/// <param name="ModelPath">The ONNX file to upload; null when the request names a registered model (<c>Submit.Model</c>).</param>
/// <param name="TwinPath">Gradient methods: a float32 twin of a quantized model, differentiated in its place.</param>
/// <param name="Metrics">--metrics: the quality metrics to compute of the finished job's maps (see <see cref="MetricsFollowUp"/>); empty for none.</param>
/// <param name="MetricSteps">--metric-steps: points on each metric curve besides the first; 0 for the gateway's default.</param>
/// <param name="RankingChannel">--channel: max-activating by this channel of a pooled-activations dataset job.</param>
/// <param name="TsnePerplexity">--perplexity: the t-SNE of a tsne dataset job; 0 for the gateway's default.</param>
/// <param name="RankingSize">--top: images in each max/min-activating picture of a dataset job; 0 for the gateway's default.</param>
public sealed record ExplainRequest(string ImagePath, string? ModelPath, SubmitJobRequest Submit, string OutputDirectory, string? TwinPath = null,
    IReadOnlyList<string>? Metrics = null, int MetricSteps = 0, int RankingSize = 0, float TsnePerplexity = 0, int? RankingChannel = null,
    int RandomizationSteps = RandomizationFollowUp.DefaultSteps);
