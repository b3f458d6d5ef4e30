namespace GraphGen.Onnx.Nodes;

/// <summary>ReLU → Relu.</summary>
internal sealed class ReLUNode : UnaryNode
{
    public override LayerKind Kind => LayerKind.ReLU;
    protected override string OpType => "Relu";
}
