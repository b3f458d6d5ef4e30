using System.Text.RegularExpressions;

namespace GraphGen.Generator.Parsing;

/// <summary>The member names the emitter gives the network class. A class cannot contain a member
/// with its own name (CS0542), so a network class may not be called any of these.</summary>
internal static class GeneratedNames
{
    private static readonly Regex Pattern = new(
        "^(Name|InputShape|InputSize|Classes|MaxBatch|Threads|Simd|Layers|Tensors|Tensor|Gradient|TrainStep|Infer|FindNonFinite|Summary|PhaseTimes|ResetPhaseTimes|Dispose" +
        "|Train\\d*|Update|Fold|InferPhase|InferChunk|At|Ref|Slot|GraphGenBuffers|GraphGenWorkspace" +
        "|(Conv|Dense)\\d+(Forward|Weights|InputGrad)|G\\d+(Post|PostBack|BatchNormBack|Stats))$",
        RegexOptions.CultureInvariant);

    public static bool Collides(string className) => Pattern.IsMatch(className);
}
