using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Layers;

/// <summary>
/// Everything the generator knows about one activation function, in one place: a <see cref="LayerDefinition"/>
/// (attribute, stem, arguments; the output has the input's shape, no tensors) that also says whether it
/// keeps order (so a max pool may run before it), and gives the vector expressions of the function and its
/// derivative that the fused epilogues inline. One sealed class per activation in <c>Layers/Activations/</c>;
/// <see cref="All"/> lists them, and the planner and the emitter look activations up here.
/// </summary>
internal abstract class ActivationKind : LayerDefinition
{
    public sealed override FusionSlot Slot => FusionSlot.Activation;

    /// <summary>x ≤ y implies f(x) ≤ f(y): the epilogue may take a max pool's max before applying it.</summary>
    public virtual bool IsMonotonic => true;
    /// <summary>The derivative is computed from the activation's input; otherwise from its output.</summary>
    public virtual bool GradientFromInput => false;

    /// <summary>f(<paramref name="x"/>), a vector expression (TV, S in scope).</summary>
    public abstract string Forward(LayerModel layer, string x);
    /// <summary>f'(·) from the activation's <paramref name="output"/> or, when
    /// <see cref="GradientFromInput"/>, its <paramref name="input"/>.</summary>
    public abstract string Derivative(LayerModel layer, string output, string input);

    protected const string VMath = "global::GraphGen.Simd.VMath";

    protected static string Single(double value) => ((float)value).ToString("R", CultureInfo.InvariantCulture) + "f";

    /// <summary>The activation subset of <see cref="LayerDefinition.All"/>.</summary>
    public static new readonly IReadOnlyList<ActivationKind> All = LayerDefinition.All.OfType<ActivationKind>().ToArray();

    /// <summary>The definition of <paramref name="kind"/>, or null when it is not an activation.</summary>
    public static new ActivationKind? Of(LayerKind kind) => LayerDefinition.Of(kind) as ActivationKind;
}
