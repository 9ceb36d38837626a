"""The book's figure and measurement code: what a chapter draws or measures, kept apart from
the library a reader imports (:mod:`adamlab.rules`, :mod:`adamlab.optim`, :mod:`adamlab.fast`,
:mod:`adamlab.ema`, :mod:`adamlab.landscapes`, :mod:`adamlab.experiments`)."""
