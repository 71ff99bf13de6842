"""sherpa-bench: fine-tune Segment Anything Models and measure how much general ability each method keeps.

Data flows one way; each stage has one owner package:

    datasets -> prompts -> models -> metrics -> harness (run records) -> leaderboards

See docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"
