using Google.Protobuf;
using Google.Protobuf.Reflection;
using Lantern.Gateway.Mapping;
using Api = Lantern.Contracts.Api;
using Spec = Lantern.Contracts.Messages;

namespace Lantern.Cluster.Tests.Gateway;

/// <summary>
/// The journal persists the cluster's own copies of the option messages; the gateway maps the public ones onto them.
/// </summary>
public sealed class SpecMappingTests
{
    public static TheoryData<string> PersistedOptionMessages() =>
        [.. Spec.JobOptionsReflection.Descriptor.MessageTypes.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(PersistedOptionMessages))]
    public void Every_persisted_option_field_keeps_the_number_and_type_journals_were_written_with(string message)
    {
        // Journals written before the copies existed hold the lantern.v1 messages' bytes: same numbers, same types.
        var persisted = Spec.JobOptionsReflection.Descriptor.FindTypeByName<MessageDescriptor>(message);
        var original = Api.LanternReflection.Descriptor.FindTypeByName<MessageDescriptor>(message);
        var reserved = original.ToProto().ReservedRange;
        foreach (var field in persisted.Fields.InDeclarationOrder())
        {
            var before = original.FindFieldByName(field.Name);
            if (before is null)
            {
                // A field of the cluster's own (set by the gateway, e.g. deep dream's): no journal of the public message can
                // hold its number, because the public message reserves it.
                Assert.True(reserved.Any(r => field.FieldNumber >= r.Start && field.FieldNumber < r.End),
                    $"{message}.{field.Name} ({field.FieldNumber}) is in neither the public message nor its reserved numbers");
                continue;
            }
            Assert.Equal(before.FieldNumber, field.FieldNumber);
            Assert.Equal(before.FieldType, field.FieldType);
            Assert.Equal(before.IsRepeated, field.IsRepeated);
            Assert.Equal(before.HasPresence, field.HasPresence);
        }
    }

    [Fact]
    public void Fully_populated_public_options_map_onto_the_persisted_ones_without_loss()
    {
        var fill = new Api.Fill { Kind = Api.Fill.Types.Kind.Blur, R = 1, G = 2, B = 3, BlurSigma = 4.5f };
        var segmentation = new Api.Segmentation { Method = "felzenszwalb", Segments = 7, Compactness = 2, Scale = 50, Sigma = 0.5f, MinSize = 9 };
        IMessage[] everything =
        [
            new Api.Preprocessing
            {
                Width = 224, Height = 200, Resize = "stretch", ResizeShorterSide = 256, ChannelOrder = "bgr", Layout = "nhwc",
                Scale = 0.5f, Mean = { 1, 2, 3 }, Std = { 4, 5, 6 }, Output = "probabilities",
            },
            new Api.Targets { TopK = 3, Classes = { 1, 5 }, Regions = { new Api.Region { ClassIndex = 2, X = 1, Y = 2, Width = 3, Height = 4 } } },
            new Api.OcclusionOptions
            {
                Windows = { new Api.Window { Height = 8, Width = 9, StrideY = 2, StrideX = 3 } }, Fill = fill,
                CoarseToFine = true, RefineThreshold = 0, Border = "inside",
            },
            new Api.LimeOptions
            {
                Samples = 10, Segmentation = segmentation, Hide = fill, KernelWidth = 0.3f, FeatureSelection = "none",
                NumFeatures = 4, MaskFeatures = 2, StopWhenStable = true, CheckEvery = 5, StableChecks = 2, StableTop = 1,
            },
            new Api.KernelShapOptions { Samples = 11, Segmentation = segmentation, Hide = fill },
            new Api.RiseOptions { Samples = 12, Cells = 5, Density = 0.4f },
            new Api.GradientOptions
            {
                Method = "integrated-gradients", Layer = "conv", Steps = 7, Baseline = "black", Integration = "riemann_left",
                SmoothSamples = 3, SmoothSigma = 0.2f, SmoothOver = "saliency", TopChannels = 4, TwinModelSha256 = new string('c', 64),
                TargetTensor = "logits",
            },
        ];
        foreach (var api in everything)
        {
            var mapped = Map(api);
            // Every field set (refine_threshold = 0 included: presence survives) comes out with the same value.
            Assert.Equal(api.ToByteString(), mapped.ToByteString());
            Assert.Equal(FieldsSet(api), FieldsSet(mapped));
        }
    }

    private static IMessage Map(IMessage api) => api switch
    {
        Api.Preprocessing p => SpecMapping.ToSpec<Spec.Preprocessing>(p),
        Api.Targets t => SpecMapping.ToSpec<Spec.Targets>(t),
        Api.OcclusionOptions o => SpecMapping.ToSpec<Spec.OcclusionOptions>(o),
        Api.LimeOptions l => SpecMapping.ToSpec<Spec.LimeOptions>(l),
        Api.KernelShapOptions k => SpecMapping.ToSpec<Spec.KernelShapOptions>(k),
        Api.RiseOptions r => SpecMapping.ToSpec<Spec.RiseOptions>(r),
        Api.GradientOptions g => SpecMapping.ToSpec<Spec.GradientOptions>(g),
        _ => throw new ArgumentException(api.GetType().Name),
    };

    /// <summary>Names of the fields the message carries, so a test of "every field" cannot pass on an empty message.</summary>
    private static int FieldsSet(IMessage message) =>
        message.Descriptor.Fields.InDeclarationOrder().Count(f => f.IsRepeated
            ? ((System.Collections.IList)f.Accessor.GetValue(message)).Count > 0
            : f.HasPresence ? f.Accessor.HasValue(message) : !Equals(f.Accessor.GetValue(message), DefaultOf(f)));

    private static object? DefaultOf(FieldDescriptor f) => f.FieldType switch
    {
        FieldType.String => "",
        FieldType.Float => 0f,
        FieldType.Int32 => 0,
        FieldType.Bool => false,
        FieldType.Enum => 0,
        _ => null,
    };
}
