using Google.Protobuf;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Maps the public lantern.v1 option messages onto the cluster's own copies (lantern.cluster, job_options.proto) that
/// the journal persists. The two match field by field by name, so the mapping goes through protobuf's JSON form,
/// which names fields: a field renumbered in the public API still lands in the right place, and a public field the
/// cluster's copy lacks makes the parse throw (a test maps fully populated requests, so that shows up in CI).
/// </summary>
public static class SpecMapping
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    public static TSpec ToSpec<TSpec>(IMessage api) where TSpec : IMessage<TSpec>, new() =>
        Parser.Parse<TSpec>(Formatter.Format(api));
}
