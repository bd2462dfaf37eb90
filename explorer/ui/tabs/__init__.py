"""One module per part of the page: its layout (`create_ui`, returning its components) and its
events (`wire(page)`), with the handlers between them."""
