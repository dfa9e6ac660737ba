using Lantern.Contracts.Api;

namespace Lantern.Cli.Client;

/// <summary>One explanation as the command line describes it: local files plus the API request to make of them.</summary>
public sealed record ExplainRequest(string ImagePath, string ModelPath, SubmitJobRequest Submit, string OutputDirectory);
