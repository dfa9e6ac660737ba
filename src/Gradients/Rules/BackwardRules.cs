namespace Lantern.Gradients.Rules;

/// <summary>The backward rule of each supported op type.</summary>
internal static class BackwardRules
{
    public static IReadOnlyDictionary<string, IBackwardRule> Create()
    {
        IBackwardRule[] rules =
        [
            new PassThroughRule("Identity"), new PassThroughRule("Dropout"),
            new ReshapeLikeRule("Reshape"), new ReshapeLikeRule("Flatten"), new ReshapeLikeRule("Squeeze"), new ReshapeLikeRule("Unsqueeze"),
            new TransposeRule(), new ExpandRule(), new ConcatRule(), new SplitRule(), new SliceRule(), new PadRule(), new ResizeRule(), new GatherRule(),
            new AddSubRule("Add"), new AddSubRule("Sub"), new AddSubRule("Sum"), new MulRule(), new DivRule(), new NegRule(),
            new RectifiedLinearRule(), new LeakyReluRule(), new ClipRule(), new SigmoidRule(), new TanhRule(),
            new HardSigmoidRule(), new HardSwishRule(), new SoftmaxRule(), new LogSoftmaxRule(), new ErfRule(), new GeluRule(),
            new GemmRule(), new MatMulRule(), new ConvRule(), new ConvTransposeRule(),
            new MaxPoolRule(), new AveragePoolRule(AveragePoolDivisors.WindowWeights), new GlobalAveragePoolRule(), new GlobalMaxPoolRule(),
            new ReduceRule("ReduceMean"), new ReduceRule("ReduceSum"),
            new BatchNormalizationRule(), new InstanceNormalizationRule(), new LrnRule(),
            new CastRule(), new ExpRule(), new LogRule(), new SqrtRule(), new AbsRule(), new PowRule(),
            new EluRule(), new SoftplusRule(), new PReluRule(), new MaxMinRule("Max"), new MaxMinRule("Min"),
        ];
        return rules.ToDictionary(r => r.OpType, StringComparer.Ordinal);
    }
}
