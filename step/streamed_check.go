package step

// StreamedCheck checks a fitted step whose largest fields a streamed
// reading of an artifact feeds entry by entry instead of decoding them
// into the step: an encoder's categories_ (to a CategoriesCheck; a one-hot
// encoder's infrequent_categories_ too, and both are read again through
// SetSource's source),
// a quantile transformer's references_ and quantiles_ and a KBins
// discretizer's bin_edges_ (to a FloatsCheck). The reading decodes the
// step's other fields into it as usual, feeds each streamed field to the
// check Categories or Floats returns for the field's JSON name, and then
// calls Check, which applies CheckStep's rules — the same code, as
// CheckStep feeds the fields held in memory to the same checks. The
// step is then fit for Outputs, not for Transform.
type StreamedCheck struct {
	f          streamer
	p          Params
	categories map[string]*CategoriesCheck
	floats     map[string]*FloatsCheck
	source     func(field string) (CategorySource, error)
}

// streamer is a fitted step some of whose fields a streamed reading may
// feed entry by entry.
type streamer interface {
	Fitted
	// streamed registers the checks of the streamed fields in c.
	streamed(p Params, c *StreamedCheck)
	// feed feeds the streamed fields held in memory to their checks.
	feed(c *StreamedCheck)
	// checkStreamed applies Check's rules, the streamed fields being
	// checked by c.
	checkStreamed(nIn int, c *StreamedCheck) error
}

// NewStreamedCheck returns the check of fitted step f (configured by p)
// for a reading that feeds its large fields entry by entry, or nil when f
// has no such field (it is decoded whole and checked with CheckStep).
func NewStreamedCheck(p Params, f Fitted) *StreamedCheck {
	s, ok := f.(streamer)
	if !ok {
		return nil
	}
	return newStreamedCheck(p, s)
}

func newStreamedCheck(p Params, s streamer) *StreamedCheck {
	c := &StreamedCheck{f: s, p: p, categories: map[string]*CategoriesCheck{}, floats: map[string]*FloatsCheck{}}
	s.streamed(p, c)
	return c
}

// Categories returns the check the field named field (its JSON name) is
// fed to, entry by entry, when it is a list of category lists; else nil.
func (c *StreamedCheck) Categories(field string) *CategoriesCheck { return c.categories[field] }

// Floats returns the check the field named field is fed to, entry by
// entry, when it is a float array or a list of them; else nil.
func (c *StreamedCheck) Floats(field string) *FloatsCheck { return c.floats[field] }

// Check applies CheckStep's rules to the step, its streamed fields
// having been fed to their checks, for nIn input columns.
func (c *StreamedCheck) Check(nIn int) error {
	if err := c.f.checkStreamed(nIn, c); err != nil {
		return err
	}
	return checkParams(c.p, c.f, c)
}

// SetSource gives the check a way to read a field of category lists
// again from the start (a one-hot encoder's categories_ and
// infrequent_categories_, which its rules walk together once both are
// read).
func (c *StreamedCheck) SetSource(src func(field string) (CategorySource, error)) { c.source = src }
