"""Flask-WTF forms (CSRF included)."""

from flask import current_app, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app.models import DELIVERY_METHODS


class Form(FlaskForm):
    """Our forms read HTML form posts only. Flask-WTF would feed a JSON body to the fields
    (``ImmutableMultiDict(request.get_json())``), which fails with a 500 on anything but a
    JSON object; here a JSON body is an empty form, so validation fails as for any bad post."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto and request.is_json and not request.form:
                return ImmutableMultiDict() if form.is_submitted() else None
            return super().wrap_formdata(form, formdata)


class LoginForm(Form):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class RegisterForm(Form):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(r"^[\w.-]+$", message="Letters, digits, '.', '-' and '_' only"),
        ],
    )
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ")]
    )


class ChangePasswordForm(Form):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", "Passwords differ")],
    )


class QuantityRange:
    """``minimum`` up to the shop's ``CHECKOUT_MAX_QUANTITY``, read when validating: the
    one limit the cart, the checkout and the JSON API share."""

    def __init__(self, minimum: int):
        self.minimum = minimum

    def __call__(self, form, field):
        NumberRange(self.minimum, max_quantity())(form, field)


def max_quantity() -> int:
    """``CHECKOUT_MAX_QUANTITY``: the most of one product an order may hold."""
    return current_app.config["CHECKOUT_MAX_QUANTITY"]


class AddToCartForm(Form):
    product_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField("Qty", default=1, validators=[QuantityRange(1)])


class CartUpdateForm(Form):
    product_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField("Qty", validators=[QuantityRange(0)])


class CheckoutForm(Form):
    delivery_method = RadioField(
        "Delivery",
        choices=[SelectChoice(m, m.capitalize()) for m in DELIVERY_METHODS],
        default="home delivery",
        validators=[DataRequired()],
    )
    delivery_address = TextAreaField("Delivery address", validators=[Optional(), Length(max=300)])
    idempotency_key = HiddenField()


class CancelOrderForm(Form):
    """A customer cancelling their own Pending order: the box is the confirm step."""

    confirm = BooleanField(
        "Yes, cancel this order and refund my credits",
        validators=[DataRequired("Tick the box to confirm the cancellation.")],
    )
    note = TextAreaField("Why? (optional)", validators=[Optional(), Length(max=200)])


class EmptyForm(Form):
    """A CSRF token and nothing else (logout, remove buttons)."""


class ProductForm(Form):
    """A catalogue product (admin). Stock empty: not tracked (always available)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    category = StringField("Category", validators=[DataRequired(), Length(max=60)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=500)])
    credit_value = IntegerField(
        "Price (credits)", validators=[DataRequired(), NumberRange(1, 1_000_000)]
    )
    stock = IntegerField("Stock", validators=[Optional(), NumberRange(0, 1_000_000)])
    image_url = StringField("Image URL", validators=[Optional(), Length(max=500)])

    def fields(self) -> dict:
        """The product's fields as ``products.parse_product`` takes them."""
        return {
            "name": self.name.data,
            "category": self.category.data,
            "description": self.description.data or "",
            "credit_value": self.credit_value.data,
            "stock": self.stock.data,
            "image_url": self.image_url.data or None,
        }
